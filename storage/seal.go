package storage

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
)

// ErrSealKey is returned for a seal key that is not 32 bytes.
var ErrSealKey = errors.New("seal key must be 32 bytes")

// Sealer seals secret ballots with AES-256-GCM under a key derived for
// each ballot (HKDF-SHA256 from voting.seal_key, which never reaches
// Redis). The ballot id is the additional data, so a sealed ballot moved to
// another ballot's box does not open.
type Sealer struct {
	key []byte
}

// NewSealer returns a sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, ErrSealKey
	}
	return &Sealer{key: append([]byte(nil), key...)}, nil
}

func (s *Sealer) aead(ballotKey string) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, s.key, nil, "committeebot ballot box "+ballotKey, 32)
	if err != nil {
		return nil, fmt.Errorf("derive ballot key: %w", err)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("ballot cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// Seal encrypts plaintext for the ballot named ballotKey.
func (s *Sealer) Seal(ballotKey string, plaintext []byte) ([]byte, error) {
	a, err := s.aead(ballotKey)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, a.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return a.Seal(nonce, nonce, plaintext, []byte(ballotKey)), nil
}

// Open decrypts what Seal sealed for the same ballot.
func (s *Sealer) Open(ballotKey string, sealed []byte) ([]byte, error) {
	a, err := s.aead(ballotKey)
	if err != nil {
		return nil, err
	}
	if len(sealed) < a.NonceSize() {
		return nil, errors.New("open sealed ballot: too short")
	}
	out, err := a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], []byte(ballotKey))
	if err != nil {
		return nil, fmt.Errorf("open sealed ballot: %w", err)
	}
	return out, nil
}

// CastToken derives, from a secret that only the voter's Telegram update
// carries (the callback query id, random and never stored), the cast id
// that makes a retried or redelivered submission count once, and the
// voter's receipt. The same update always gives the same pair, so a voter
// whose submission was handled twice sees one receipt; the cast id kept
// next to the voter in Redis reveals nothing of the receipt without that
// secret, and neither can be computed without voting.seal_key.
func (s *Sealer) CastToken(ballotKey, secret string) (castID, receipt string, err error) {
	k, err := hkdf.Key(sha256.New, s.key, nil, "committeebot cast "+ballotKey, 32)
	if err != nil {
		return "", "", fmt.Errorf("derive cast key: %w", err)
	}
	mac := func(label string) []byte {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(label + "|" + secret))
		return m.Sum(nil)
	}
	castID = strings.ToLower(receiptEncoding.EncodeToString(mac("cast")[:15]))
	r := receiptEncoding.EncodeToString(mac("receipt")[:7])[:10]
	return castID, r[:5] + "-" + r[5:], nil
}

var receiptEncoding = base32.NewEncoding("ABCDEFGHJKLMNPQRSTUVWXYZ23456789").WithPadding(base32.NoPadding)

// NewReceipt returns a random receipt code like "K7QF2-9MXRA": ten
// characters from an alphabet without look-alikes (no I, O, 0, 1).
func NewReceipt() (string, error) {
	b := make([]byte, 7)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("receipt: %w", err)
	}
	s := receiptEncoding.EncodeToString(b)[:10]
	return s[:5] + "-" + s[5:], nil
}

// NewCastID returns a random id for one cast attempt, so that a retried
// script run (go-redis may run it twice) is recognised as the same cast.
func NewCastID() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("cast id: %w", err)
	}
	return strings.ToLower(receiptEncoding.EncodeToString(b)), nil
}
