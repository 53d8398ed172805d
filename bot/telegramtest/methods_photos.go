package telegramtest

import (
	"bytes"
	"fmt"
	"image"
	"net/url"
	"strings"

	// The formats Telegram takes as photos.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/webp"
)

func init() {
	handlers["sendPhoto"] = handleSendPhoto
}

// Telegram's limits for a photo (sendPhoto): at most 10 MB, width and
// height adding up to at most 10 000 pixels, a ratio of the sides of at
// most 20.
const (
	maxPhotoBytes = 10 << 20
	maxPhotoSides = 10000
	maxPhotoRatio = 20
)

// photoBoxes are the longest sides of the sizes Telegram makes of a photo
// (types s, m, x, y, w): every box smaller than the photo, then the photo
// itself within the last box.
var photoBoxes = []int{90, 320, 800, 1280, 2560}

func handleSendPhoto(s *Server, c *call) (reply, error) {
	return s.send(c, "caption", "caption_entities", EventPhoto, func(f formatted) (*Message, error) {
		stored, err := s.st.photoParamLocked(c, "photo")
		if err != nil {
			return nil, err
		}
		p := *stored
		p.Caption = f.text
		return &Message{Photo: &p}, nil
	})
}

// photoParamLocked resolves the photo parameter: an upload (or an
// attach:// reference to one), checked as Telegram checks photos, or the
// file_id of a photo sent before. A photo Telegram would refuse breaks
// the contract (Rejections); so does a document's file_id. The stand-in
// fetches no URL: it answers as Telegram does when it cannot download one.
func (st *state) photoParamLocked(c *call, name string) (*Photo, error) {
	raw := strings.TrimSpace(c.str(name))
	up, isUpload := c.files[name]
	if ref, ok := strings.CutPrefix(raw, "attach://"); ok && !isUpload {
		up, isUpload = c.files[ref]
	}
	if isUpload {
		return st.newPhotoLocked(up)
	}
	if p, ok := st.photos[raw]; ok {
		return p, nil
	}
	if _, ok := st.files[raw]; ok {
		return nil, badRequest("can't use file of type Document as Photo")
	}
	if u, err := url.Parse(raw); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return nil, stateError("failed to get HTTP URL content")
	}
	return nil, stateError("wrong file identifier/HTTP URL specified")
}

// newPhotoLocked checks an uploaded photo and registers it with one
// file_id per size. The real server re-encodes each size as JPEG; the
// stand-in keeps the bytes the bot sent, served for every size, so that
// tests read exactly what the bot drew.
func (st *state) newPhotoLocked(up upload) (*Photo, error) {
	switch {
	case len(up.Data) == 0:
		return nil, badRequest("file must be non-empty")
	case len(up.Data) > maxPhotoBytes:
		return nil, badRequest("PHOTO_SAVE_FILE_INVALID")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(up.Data))
	if err != nil {
		return nil, badRequest("IMAGE_PROCESS_FAILED")
	}
	w, h := cfg.Width, cfg.Height
	if w <= 0 || h <= 0 || w+h > maxPhotoSides || w > maxPhotoRatio*h || h > maxPhotoRatio*w {
		return nil, badRequest("PHOTO_INVALID_DIMENSIONS")
	}
	st.fileSeq++
	n := st.fileSeq
	ext := format
	if ext == "jpeg" {
		ext = "jpg"
	}
	file := &Document{FileName: up.FileName, MimeType: "image/" + format, Data: up.Data}
	st.filesByPath[fmt.Sprintf("photos/file_%d.%s", n, ext)] = file
	p := &Photo{Format: format, Width: w, Height: h, Data: up.Data}
	for i, size := range photoSizes(w, h) {
		size.FileID = fmt.Sprintf("AgACAgIAAxkBAAI%08d%dStandIn", n, i)
		size.FileUniqueID = fmt.Sprintf("AQAD%08d%d", n, i)
		p.Sizes = append(p.Sizes, size)
		st.photos[size.FileID] = p
		st.photoFiles[size.FileID] = file
	}
	last := p.Sizes[len(p.Sizes)-1]
	p.FileID, p.FileUniqueID = last.FileID, last.FileUniqueID
	return p, nil
}

// photoSizes are the sizes Telegram makes of a w×h photo, smallest
// first.
func photoSizes(w, h int) []PhotoSize {
	var out []PhotoSize
	long := max(w, h)
	for _, box := range photoBoxes {
		if long <= box {
			return append(out, PhotoSize{Width: w, Height: h})
		}
		out = append(out, PhotoSize{Width: max(1, w*box/long), Height: max(1, h*box/long)})
	}
	return out
}
