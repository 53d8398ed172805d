package telegramtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxBody bounds a request body; the real server accepts uploads of up to
// 50 MB.
const maxBody = 50 << 20

// upload is a file sent in a multipart request.
type upload struct {
	FileName    string
	ContentType string
	Data        []byte
}

// parseRequest reads the parameters of a call the ways the real server
// accepts them: URL query string, application/x-www-form-urlencoded,
// multipart/form-data and application/json. Every value ends up as the
// string the bot would have sent in a form; JSON objects and arrays keep
// their JSON text, JSON null is dropped.
func parseRequest(r *http.Request) (map[string]string, map[string]upload, error) {
	params := map[string]string{}
	for k, vs := range r.URL.Query() {
		if len(vs) > 0 {
			params[k] = vs[0]
		}
	}
	if r.Body == nil {
		return params, nil, nil
	}
	ct, ctParams, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		return parseMultipart(r, ctParams["boundary"], params)
	case "application/json":
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			return nil, nil, fmt.Errorf("can't read request body")
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return params, nil, nil
		}
		if err := jsonParams(body, params); err != nil {
			return nil, nil, err
		}
		return params, nil, nil
	default:
		// The real server reads a form body whatever the content type says;
		// tgbotapi always labels it application/x-www-form-urlencoded.
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			return nil, nil, fmt.Errorf("can't read request body")
		}
		if len(body) == 0 {
			return params, nil, nil
		}
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, nil, fmt.Errorf("can't parse request body")
		}
		for k, vs := range vals {
			if len(vs) > 0 {
				params[k] = vs[0]
			}
		}
		return params, nil, nil
	}
}

func parseMultipart(r *http.Request, boundary string, params map[string]string) (map[string]string, map[string]upload, error) {
	if boundary == "" {
		return nil, nil, errors.New("can't parse multipart body: no boundary")
	}
	if err := r.ParseMultipartForm(maxBody); err != nil {
		return nil, nil, fmt.Errorf("can't parse multipart body")
	}
	defer func() { _ = r.MultipartForm.RemoveAll() }()
	for k, vs := range r.MultipartForm.Value {
		if len(vs) > 0 {
			params[k] = vs[0]
		}
	}
	files := map[string]upload{}
	for field, fhs := range r.MultipartForm.File {
		if len(fhs) == 0 {
			continue
		}
		fh := fhs[0]
		f, err := fh.Open()
		if err != nil {
			return nil, nil, fmt.Errorf("can't read uploaded file")
		}
		data, err := io.ReadAll(f)
		_ = f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("can't read uploaded file")
		}
		files[field] = upload{FileName: fh.Filename, ContentType: fh.Header.Get("Content-Type"), Data: data}
	}
	return params, files, nil
}

// jsonParams flattens a JSON request body into form-like parameters.
func jsonParams(body []byte, params map[string]string) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return fmt.Errorf("can't parse JSON object")
	}
	for k, raw := range obj {
		v, ok := jsonParamValue(raw)
		if ok {
			params[k] = v
		}
	}
	return nil
}

// jsonParamValue renders a JSON value as a form value: strings unquoted,
// other values as their JSON text; null is reported absent.
func jsonParamValue(raw json.RawMessage) (string, bool) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return "", false
	}
	if t[0] == '"' {
		var s string
		if err := json.Unmarshal(t, &s); err == nil {
			return s, true
		}
	}
	return string(t), true
}

func fileNames(files map[string]upload) map[string]string {
	if len(files) == 0 {
		return nil
	}
	out := make(map[string]string, len(files))
	for k, f := range files {
		out[k] = f.FileName
	}
	return out
}

// serveFile answers file downloads at /file/bot<token>/<file_path>.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/file/bot")
	token, path, _ := strings.Cut(rest, "/")
	if token != s.token {
		writeError(w, &apiError{code: http.StatusUnauthorized, desc: "Unauthorized"})
		return
	}
	s.mu.Lock()
	f, ok := s.st.filesByPath[path]
	s.mu.Unlock()
	if !ok {
		writeError(w, &apiError{code: http.StatusNotFound, desc: "Not Found"})
		return
	}
	w.Header().Set("Content-Type", f.MimeType)
	_, _ = w.Write(f.Data)
}
