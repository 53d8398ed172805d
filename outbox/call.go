package outbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/committeebot/committeebot/bot"
	"github.com/committeebot/committeebot/storage"
)

// call is one Bot API call as the outbox keeps it: the method, its
// parameters as Telegram's form fields, and the bytes of files to upload.
type call struct {
	Method string            `json:"m"`
	Params map[string]string `json:"p"`
	Files  []file            `json:"f,omitempty"`
}

// file is one upload: the form field ("document", "photo") and its name
// and bytes.
type file struct {
	Field string `json:"k"`
	Name  string `json:"n"`
	Data  []byte `json:"d"`
}

// errNoChat is returned for a call without a chat_id: the outbox orders
// and limits calls by chat, so it only takes calls that have one.
var errNoChat = errors.New("outbox: call has no chat_id")

// encode turns c into a call. tgbotapi keeps a config's parameters behind
// an unexported method; WriteToHTTPResponse is its public way to serialise
// them, and works for everything but new uploads, whose files are taken
// out first (documents and photos are the only uploads the bot makes).
func encode(c tgbotapi.Chattable) (call, error) {
	var files []file
	var err error
	switch d := c.(type) {
	case tgbotapi.DocumentConfig:
		if files, err = takeUpload("document", &d.File); err != nil {
			return call{}, err
		}
		c = d
	case tgbotapi.PhotoConfig:
		if files, err = takeUpload("photo", &d.File); err != nil {
			return call{}, err
		}
		c = d
	}
	method, v, err := bot.EncodeCall(c)
	if err != nil {
		return call{}, fmt.Errorf("outbox: encode %T: %w", c, err)
	}
	out := call{Method: method, Params: make(map[string]string, len(v)), Files: files}
	for k := range v {
		out.Params[k] = v.Get(k)
	}
	for _, f := range files {
		delete(out.Params, f.Field)
	}
	if out.Method == "" {
		return call{}, fmt.Errorf("outbox: encode %T: no method", c)
	}
	return out, nil
}

// takeUpload takes a new upload's bytes (tgbotapi.FileBytes) out of the
// config, leaving a placeholder the serialiser accepts. A file
// id or a URL stays a parameter; any other upload (a path, a reader)
// cannot be kept in Redis to be sent later, and is an error.
func takeUpload(field string, f *tgbotapi.RequestFileData) ([]file, error) {
	fb, isBytes := (*f).(tgbotapi.FileBytes)
	if !isBytes {
		if *f != nil && (*f).NeedsUpload() {
			return nil, fmt.Errorf("outbox: %s %T cannot be kept for a later upload; use tgbotapi.FileBytes", field, *f)
		}
		return nil, nil
	}
	*f = tgbotapi.FileID("-")
	return []file{{Field: field, Name: fb.Name, Data: fb.Bytes}}, nil
}

// chat is the call's chat_id.
func (c call) chat() string { return c.Params["chat_id"] }

// kind says which limits the call is subject to.
func (c call) kind() storage.OutboxKind {
	switch {
	case bot.SendsMessage(c.Method):
		return storage.OutboxSend
	case bot.EditsMessage(c.Method):
		return storage.OutboxEdit
	}
	return storage.OutboxOther
}

// params are the call's parameters in tgbotapi's form.
func (c call) params() tgbotapi.Params {
	p := make(tgbotapi.Params, len(c.Params))
	for k, v := range c.Params {
		p[k] = v
	}
	return p
}

// requestFiles are the call's uploads in tgbotapi's form.
func (c call) requestFiles() []tgbotapi.RequestFile {
	if len(c.Files) == 0 {
		return nil
	}
	out := make([]tgbotapi.RequestFile, len(c.Files))
	for i, f := range c.Files {
		out[i] = tgbotapi.RequestFile{Name: f.Field, Data: tgbotapi.FileBytes{Name: f.Name, Bytes: f.Data}}
	}
	return out
}

func (c call) marshal() ([]byte, error) { return json.Marshal(c) }

func unmarshal(b []byte) (call, error) {
	var c call
	if err := json.Unmarshal(b, &c); err != nil {
		return call{}, fmt.Errorf("outbox: decode item: %w", err)
	}
	return c, nil
}

// withMessageID sets the message to edit, resolved from a ref.
func (c call) withMessageID(id int64) call {
	p := make(map[string]string, len(c.Params)+1)
	for k, v := range c.Params {
		p[k] = v
	}
	p["message_id"] = strconv.FormatInt(id, 10)
	c.Params = p
	return c
}

// withoutThread is c without its forum topic.
func (c call) withoutThread() call {
	p := make(map[string]string, len(c.Params))
	for k, v := range c.Params {
		if k != "message_thread_id" {
			p[k] = v
		}
	}
	c.Params = p
	return c
}

// posts reports whether c posts a new message (sendMessage, sendDocument,
// sendPhoto…), as opposed to an edit or a deletion.
func posts(c *call) bool { return strings.HasPrefix(c.Method, "send") }
