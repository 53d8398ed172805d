package storage_test

import (
	"strings"
	"testing"

	"github.com/committeebot/committeebot/storage"
)

// hashTag returns the part of key Redis Cluster hashes, by the cluster
// specification's rule: the text between the first '{' and the first '}'
// after it, if non-empty; otherwise the whole key.
func hashTag(key string) string {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return key
	}
	closing := strings.IndexByte(key[open+1:], '}')
	if closing <= 0 {
		return key
	}
	return key[open+1 : open+1+closing]
}

func TestKeys(t *testing.T) {
	t.Parallel()
	k := storage.NewKeys("cb")
	tests := []struct {
		name string
		got  string
		want string
		tag  string
	}{
		{"committee kind", k.Committee("7", "meta"), "cb:{c:7}:meta", "c:7"},
		{"committee parts", k.Committee("7", "ballot", "5", "box"), "cb:{c:7}:ballot:5:box", "c:7"},
		{"global", k.Global("invite", "abc"), "cb:{g}:invite:abc", "g"},
		{"chat committee", k.ChatCommittee(-1001234567890), "cb:{g}:chat:-1001234567890:committee", "g"},
		{"sequence", k.Sequence("committee"), "cb:{g}:seq:committee", "g"},
		{"update", k.UpdateClaim(987654321), "cb:{upd:987654321}:claim", "upd:987654321"},
		{"user profile", k.UserProfile(42), "cb:{u:42}:profile", "u:42"},
		{"dialog", k.Dialog(42), "cb:{u:42}:dialog", "u:42"},
		{"chat profile", k.ChatProfile(-100), "cb:{ch:-100}:profile", "ch:-100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("key = %q, want %q", tt.got, tt.want)
			}
			if !strings.HasPrefix(tt.got, k.Prefix()+":{") {
				t.Errorf("key %q does not start with prefix and hash tag", tt.got)
			}
			if got := hashTag(tt.got); got != tt.tag {
				t.Errorf("hash tag of %q = %q, want %q", tt.got, got, tt.tag)
			}
		})
	}
}

func TestKeysOfOneCommitteeShareASlot(t *testing.T) {
	t.Parallel()
	k := storage.NewKeys("prod")
	keys := []string{
		k.Committee("A1", "meta"),
		k.Committee("A1", "members"),
		k.Committee("A1", "ballot", "5", "voters"),
		k.Committee("A1", "ballot", "5", "box"),
	}
	for _, key := range keys {
		if got := hashTag(key); got != "c:A1" {
			t.Errorf("hash tag of %q = %q, want %q", key, got, "c:A1")
		}
	}
	if hashTag(k.Committee("A2", "meta")) == hashTag(keys[0]) {
		t.Error("two committees share a hash tag")
	}
}

func TestNewKeysDefaultsEmptyPrefix(t *testing.T) {
	t.Parallel()
	if got := storage.NewKeys("").Prefix(); got != storage.DefaultKeyPrefix {
		t.Errorf("Prefix() = %q, want %q", got, storage.DefaultKeyPrefix)
	}
}
