package telegramtest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// pngOf is a w×h PNG of one colour.
func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0x80
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngHeader is the start of a PNG that claims w×h pixels: enough for
// Telegram (and image.DecodeConfig) to read its size, without the
// memory of a real picture that large.
func pngHeader(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 0 // 8-bit greyscale
	chunk := append([]byte("IHDR"), ihdr...)
	out := []byte("\x89PNG\r\n\x1a\n")
	out = binary.BigEndian.AppendUint32(out, 13)
	out = append(out, chunk...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(chunk))
}

func TestPhotoRoundTrip(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	bot := newBot(t, s)
	data := pngOf(t, 1080, 1400)

	photo := tgbotapi.NewPhoto(alice, tgbotapi.FileBytes{Name: "ket-qua.png", Bytes: data})
	photo.Caption = "<b>Kết quả</b> &amp; biểu đồ"
	photo.ParseMode = tgbotapi.ModeHTML
	sent, err := bot.Send(photo)
	if err != nil {
		t.Fatalf("send photo: %v", err)
	}
	// Telegram lists the sizes it made: 90, 320, 800 and 1280 pixels
	// long, and the photo itself (under 2560).
	var sizes []string
	for _, p := range sent.Photo {
		sizes = append(sizes, strconv.Itoa(p.Width)+"×"+strconv.Itoa(p.Height))
	}
	if got := strings.Join(sizes, " "); got != "69×90 246×320 617×800 987×1280 1080×1400" || sent.Caption != "Kết quả & biểu đồ" {
		t.Fatalf("sent photo sizes %s, caption %q", got, sent.Caption)
	}
	largest := sent.Photo[len(sent.Photo)-1]
	if largest.FileSize != len(data) || len(sent.CaptionEntities) != 1 || sent.CaptionEntities[0].Type != "bold" {
		t.Errorf("largest size %+v, caption entities %+v", largest, sent.CaptionEntities)
	}
	stored := s.BotMessages(alice)[0]
	if p := stored.Photo; p == nil || !bytes.Equal(p.Data, data) || p.Format != "png" || p.Width != 1080 || p.Height != 1400 ||
		p.FileID != largest.FileID || p.Caption != sent.Caption || stored.HTML != photo.Caption {
		t.Fatalf("stored photo = %+v", stored.Photo)
	}

	// Download through getFile: the bytes uploaded.
	body, url := download(t, s, bot, largest.FileID)
	if !strings.Contains(url, "/photos/file_") {
		t.Errorf("file path %s, want under photos/", url)
	}
	if !bytes.Equal(body, data) {
		t.Error("downloaded bytes differ from the upload")
	}

	// Resending by file_id, editing the caption.
	again, err := bot.Send(tgbotapi.NewPhoto(groupID, tgbotapi.FileID(sent.Photo[0].FileID)))
	if err != nil || len(again.Photo) != 5 {
		t.Fatalf("resend by file_id: %v, %+v", err, again.Photo)
	}
	if _, err := bot.Send(tgbotapi.NewEditMessageCaption(alice, sent.MessageID, "Biểu đồ (sửa)")); err != nil {
		t.Errorf("edit caption: %v", err)
	}
	if m, _ := s.Message(alice, sent.MessageID); m.Photo.Caption != "Biểu đồ (sửa)" {
		t.Errorf("caption after the edit: %q", m.Photo.Caption)
	}
	_, err = bot.Send(tgbotapi.NewEditMessageText(alice, sent.MessageID, "text"))
	if te := apiErr(t, err); te.Message != "Bad Request: there is no text in the message to edit" {
		t.Errorf("text edit of a photo: %q", te.Message)
	}
	if rej := s.Rejections(); len(rej) != 0 {
		t.Errorf("rejected: %+v", rej)
	}
}

func TestPhotosTelegramWouldRefuseAreRejected(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	bot := newBot(t, s)
	doc, err := bot.Send(tgbotapi.NewDocument(alice, tgbotapi.FileBytes{Name: "a.csv", Bytes: []byte("a,b\n")}))
	if err != nil {
		t.Fatal(err)
	}
	upload := func(data []byte) tgbotapi.PhotoConfig {
		return tgbotapi.NewPhoto(alice, tgbotapi.FileBytes{Name: "p.png", Bytes: data})
	}
	withCaption := func(caption, mode string) tgbotapi.PhotoConfig {
		p := upload(pngOf(t, 10, 10))
		p.Caption, p.ParseMode = caption, mode
		return p
	}
	tests := []struct {
		name     string
		photo    tgbotapi.PhotoConfig
		want     string // "" for accepted
		rejected bool
	}{
		{"empty file", upload(nil), "Bad Request: file must be non-empty", true},
		{"not an image", upload([]byte("%PDF-1.4")), "Bad Request: IMAGE_PROCESS_FAILED", true},
		{"over 10 MB", upload(append(pngOf(t, 10, 10), make([]byte, 10<<20)...)), "Bad Request: PHOTO_SAVE_FILE_INVALID", true},
		{"sides over 10 000 pixels", upload(pngHeader(5000, 5001)), "Bad Request: PHOTO_INVALID_DIMENSIONS", true},
		{"sides of 10 000 pixels", upload(pngHeader(5000, 5000)), "", false},
		{"21 times taller than wide", upload(pngOf(t, 10, 211)), "Bad Request: PHOTO_INVALID_DIMENSIONS", true},
		{"20 times taller than wide", upload(pngOf(t, 10, 200)), "", false},
		{"a document's file_id", tgbotapi.NewPhoto(alice, tgbotapi.FileID(doc.Document.FileID)), "Bad Request: can't use file of type Document as Photo", true},
		{"unknown file_id", tgbotapi.NewPhoto(alice, tgbotapi.FileID("nope")), "Bad Request: wrong file identifier/HTTP URL specified", false},
		{"a URL the stand-in cannot fetch", tgbotapi.NewPhoto(alice, tgbotapi.FileURL("https://example.com/a.png")), "Bad Request: failed to get HTTP URL content", false},
		{"caption of 1025 characters", withCaption(strings.Repeat("a", 1025), ""), "Bad Request: message caption is too long", true},
		{"caption of 1024 characters after entities", withCaption("<b>"+strings.Repeat("a", 1024)+"</b>", tgbotapi.ModeHTML), "", false},
		{"caption with broken HTML", withCaption("<b>a", tgbotapi.ModeHTML), "Bad Request: can't parse entities", true},
	}
	for _, tc := range tests {
		before := len(s.Rejections())
		_, err := bot.Send(tc.photo)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(apiErr(t, err).Message, tc.want)):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		if got := len(s.Rejections()) > before; got != tc.rejected {
			t.Errorf("%s: counted as a rejection: %v, want %v", tc.name, got, tc.rejected)
		}
	}
	if n := photos(s.BotMessages(alice)); n != 3 {
		t.Errorf("%d photos stored, want the 3 accepted", n)
	}
}

// download fetches a file through getFile and the file endpoint; it
// returns the bytes and the URL.
func download(t *testing.T, s *Server, bot *tgbotapi.BotAPI, fileID string) ([]byte, string) {
	t.Helper()
	url, err := bot.GetFileDirectURL(fileID)
	if err != nil {
		t.Fatalf("getFile: %v", err)
	}
	// tgbotapi builds file links on api.telegram.org; ask our endpoint.
	url = strings.Replace(url, "https://api.telegram.org", s.URL(), 1)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return body, url
}

func photos(ms []Message) int {
	n := 0
	for _, m := range ms {
		if m.Photo != nil {
			n++
		}
	}
	return n
}
