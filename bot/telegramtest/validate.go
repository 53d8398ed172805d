package telegramtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// legacyParams are parameters tgbotapi v5.5.1 still sends although the
// current documentation replaced them (by reply_parameters and
// link_preview_options). The official server keeps accepting them, so the
// stand-in type-checks them wherever the method does not define the name.
var legacyParams = []Field{
	{Name: "reply_to_message_id", Types: []string{"Integer"}},
	{Name: "allow_sending_without_reply", Types: []string{"Boolean"}},
	{Name: "disable_web_page_preview", Types: []string{"Boolean"}},
}

// inlineButtonActions are the InlineKeyboardButton fields of which exactly
// one must be set; the others (text, icon, style) only decorate.
var inlineButtonDecorations = map[string]bool{"text": true, "icon_custom_emoji_id": true, "style": true}

// validate checks every parameter of the call against the generated table:
// presence of required ones, types, JSON shapes, documented limits and
// character sets, and parse_mode markup. Unknown extra parameters are
// ignored, as the official server does. It reads no server state.
func (c *call) validate() error {
	for _, p := range c.method.Params {
		if err := validateParam(c, p); err != nil {
			return err
		}
	}
	for _, p := range legacyParams {
		if _, known := c.method.Param(p.Name); !known {
			if err := validateParam(c, p); err != nil {
				return err
			}
		}
	}
	return nil
}

func validateParam(c *call, p Field) error {
	if _, isFile := c.files[p.Name]; isFile {
		if !hasType(p.Types, "InputFile") {
			return badRequest("parameter \"%s\" can't be a file", p.Name)
		}
		return nil
	}
	raw, has := c.params[p.Name]
	// tgbotapi sends empty strings for optional parameters it always sets,
	// and "null" for nil slices; both mean "not given".
	if !has || raw == "" || (isJSONField(p) && strings.TrimSpace(raw) == "null") {
		if p.Required && !p.EmptyOK {
			return missingParam(c.method, p)
		}
		return nil
	}
	return checkParam(c, p, raw)
}

func missingParam(m *Method, p Field) error {
	switch {
	case p.Name == "text" && strings.HasPrefix(m.Name, "send"):
		return badRequest("message text is empty")
	case p.Name == "caption":
		return badRequest("message caption is empty")
	default:
		return badRequest("%s is empty", p.Name)
	}
}

func checkParam(c *call, p Field, raw string) error {
	if name, ok := strings.CutPrefix(raw, "attach://"); ok && hasType(p.Types, "InputFile") {
		if _, ok := c.files[name]; !ok {
			return badRequest("wrong file identifier/HTTP URL specified")
		}
		return nil
	}
	if hasType(p.Types, "String") || hasType(p.Types, "InputFile") {
		text := raw
		if p.Limit.AfterEntities {
			f, err := parseFormatted(raw, c.params[parseModeParam(c.method, p.Name)])
			if err != nil {
				return err
			}
			c.parsed[p.Name] = f
			text = f.text
		}
		return checkString(c.method.Name, p, text, p.Name)
	}
	if !isJSONField(p) {
		switch p.Types[0] {
		case "Integer":
			n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
			if err != nil {
				return badRequest("invalid %s specified: an Integer is expected", p.Name)
			}
			return checkNumber(c.method.Name, p, float64(n), p.Name)
		case "Float":
			n, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
			if err != nil {
				return badRequest("invalid %s specified: a Float is expected", p.Name)
			}
			return checkNumber(c.method.Name, p, n, p.Name)
		case "Boolean", "True":
			if _, ok := parseBool(raw); !ok {
				return badRequest("invalid %s specified: a Boolean is expected", p.Name)
			}
			return nil
		}
		return nil
	}
	v, err := decodeJSON(raw)
	if err != nil {
		if p.Name == "reply_markup" {
			return badRequest("can't parse reply keyboard markup JSON object")
		}
		return badRequest("can't parse %s JSON object", p.Name)
	}
	if p.Name == "reply_markup" {
		if _, ok := v.(map[string]any); !ok {
			return badRequest("object expected as reply markup")
		}
	}
	if err := checkJSON(v, p.Types, p.Name); err != nil {
		return err
	}
	if arr, ok := v.([]any); ok {
		return checkItems(c.method.Name, p, len(arr), p.Name)
	}
	return nil
}

// parseModeParam names the parameter holding the parse mode of field:
// "caption" → "parse_mode", "explanation" → "explanation_parse_mode".
func parseModeParam(m *Method, field string) string {
	if _, ok := m.Param(field + "_parse_mode"); ok {
		return field + "_parse_mode"
	}
	return "parse_mode"
}

func decodeJSON(raw string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return v, nil
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

func hasType(types []string, t string) bool {
	for _, x := range types {
		if x == t {
			return true
		}
	}
	return false
}

// isJSONField reports whether a form parameter carries JSON: arrays and
// object types.
func isJSONField(p Field) bool {
	for _, t := range p.Types {
		switch t {
		case "Integer", "Float", "Boolean", "True", "String", "InputFile":
		default:
			return true
		}
	}
	return false
}

// checkString applies the length limit, character set and constant of a
// string field. owner is the method or type name, for the official wording.
func checkString(owner string, f Field, s string, path string) error {
	switch f.Limit.Unit {
	case UnitChars, UnitBytes:
		n := int64(utf16Len(s))
		if f.Limit.Unit == UnitBytes {
			n = int64(len(s))
		}
		if n < f.Limit.Min || n > f.Limit.Max {
			return limitError(owner, f, n, path)
		}
	}
	if f.Charset != "" && !inCharset(s, f.Charset) {
		return charsetError(owner, f, path)
	}
	if f.Const != "" && s != f.Const {
		return badRequest("field \"%s\" must be \"%s\"", path, f.Const)
	}
	return nil
}

func checkNumber(owner string, f Field, n float64, path string) error {
	if f.Limit.Unit == UnitValue && (n < float64(f.Limit.Min) || n > float64(f.Limit.Max)) {
		return badRequest("%s must be between %d and %d", path, f.Limit.Min, f.Limit.Max)
	}
	return nil
}

func checkItems(owner string, f Field, n int, path string) error {
	if f.Limit.Unit == UnitItems && (int64(n) < f.Limit.Min || int64(n) > f.Limit.Max) {
		return badRequest("%s must have %d-%d items, got %d", path, f.Limit.Min, f.Limit.Max, n)
	}
	return nil
}

// limitError words a length violation the way the official server does
// where its wording is known, and descriptively elsewhere.
func limitError(owner string, f Field, n int64, path string) error {
	short := n < f.Limit.Min
	switch owner + "." + f.Name {
	case "sendMessage.text", "editMessageText.text":
		if short {
			return badRequest("message text is empty")
		}
		return badRequest("message is too long")
	case "InlineKeyboardButton.callback_data":
		return badRequest("BUTTON_DATA_INVALID")
	case "BotCommand.command":
		return badRequest("BOT_COMMAND_INVALID")
	case "BotCommand.description":
		return badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
	case "setWebhook.secret_token":
		return badRequest("bad webhook: secret token must be %d-%d characters", f.Limit.Min, f.Limit.Max)
	}
	if f.Name == "caption" && !short {
		return badRequest("message caption is too long")
	}
	return badRequest("%s must be %d-%d %s, got %d", path, f.Limit.Min, f.Limit.Max, f.Limit.Unit, n)
}

func charsetError(owner string, f Field, path string) error {
	switch owner + "." + f.Name {
	case "BotCommand.command":
		return badRequest("BOT_COMMAND_INVALID")
	case "setWebhook.secret_token":
		return badRequest("bad webhook: secret token contains unallowed characters")
	}
	return badRequest("%s contains unallowed characters; only %s are allowed", path, f.Charset)
}

// inCharset reports whether every byte of s is in the set, written as
// ranges and single characters ("A-Za-z0-9_-"; a final '-' is literal).
func inCharset(s, set string) bool {
	for i := 0; i < len(s); i++ {
		if !charsetHas(set, s[i]) {
			return false
		}
	}
	return true
}

func charsetHas(set string, c byte) bool {
	for i := 0; i < len(set); i++ {
		if i+2 < len(set) && set[i+1] == '-' {
			if c >= set[i] && c <= set[i+2] {
				return true
			}
			i += 2
			continue
		}
		if set[i] == c {
			return true
		}
	}
	return false
}

// checkJSON checks a decoded JSON value against the accepted types; with
// several (a union such as reply_markup), one of them must fit.
func checkJSON(v any, types []string, path string) error {
	if len(types) == 1 {
		return checkJSONType(v, types[0], path)
	}
	var (
		bestErr   error
		bestScore = -1
	)
	for _, t := range types {
		err := checkJSONType(v, t, path)
		if err == nil {
			return nil
		}
		if sc := matchScore(v, t); sc > bestScore {
			bestScore, bestErr = sc, err
		}
	}
	return bestErr
}

// matchScore says how much v looks like type t: the number of its keys
// that are fields of t, so that a union reports the error of the intended
// member.
func matchScore(v any, t string) int {
	for strings.HasPrefix(t, "Array of ") {
		arr, ok := v.([]any)
		if !ok || len(arr) == 0 {
			return 0
		}
		t, v = strings.TrimPrefix(t, "Array of "), arr[0]
	}
	obj, ok := v.(map[string]any)
	typ, known := LookupType(t)
	if !ok || !known {
		return 0
	}
	n := 0
	for k := range obj {
		if _, ok := typ.Field(k); ok {
			n++
		}
	}
	return n
}

func checkJSONType(v any, t string, path string) error {
	if elem, ok := strings.CutPrefix(t, "Array of "); ok {
		arr, ok := v.([]any)
		if !ok {
			return badRequest("field \"%s\" must be an Array", path)
		}
		for i, e := range arr {
			if err := checkJSONType(e, elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	}
	switch t {
	case "Integer":
		if !isJSONInteger(v) {
			return badRequest("field \"%s\" must be an Integer", path)
		}
		return nil
	case "Float":
		if _, ok := jsonFloat(v); !ok {
			return badRequest("field \"%s\" must be a Float", path)
		}
		return nil
	case "String", "InputFile":
		if _, ok := v.(string); !ok {
			return badRequest("field \"%s\" must be a String", path)
		}
		return nil
	case "Boolean", "True":
		if _, ok := v.(bool); !ok {
			return badRequest("field \"%s\" must be a Boolean", path)
		}
		return nil
	}
	typ, ok := LookupType(t)
	if !ok {
		return nil // a type the table does not describe: accept
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return badRequest("field \"%s\" must be an Object", path)
	}
	if len(typ.Subtypes) > 0 {
		return checkUnion(obj, typ, path)
	}
	for _, f := range typ.Fields {
		fv, has := obj[f.Name]
		if !has || fv == nil {
			if f.Required {
				return badRequest("field \"%s\" of %s is required", joinPath(path, f.Name), typ.Name)
			}
			continue
		}
		fp := joinPath(path, f.Name)
		if err := checkJSON(fv, f.Types, fp); err != nil {
			return err
		}
		if err := checkJSONLimits(typ.Name, f, fv, obj, fp); err != nil {
			return err
		}
	}
	if typ.Name == "InlineKeyboardButton" {
		actions := 0
		for k, fv := range obj {
			if _, known := typ.Field(k); known && !inlineButtonDecorations[k] && fv != nil {
				actions++
			}
		}
		switch {
		case actions == 0:
			return badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
		case actions > 1:
			return badRequest("can't parse inline keyboard button: exactly one of the optional fields must be used")
		}
	}
	return nil
}

// checkUnion resolves an abstract type (BotCommandScope, InputMedia, ...)
// to the subtype its discriminator names and checks against that.
func checkUnion(obj map[string]any, typ *Type, path string) error {
	disc := ""
	for _, name := range typ.Subtypes {
		st, ok := LookupType(name)
		if !ok {
			continue
		}
		for _, f := range st.Fields {
			if f.Const == "" {
				continue
			}
			disc = f.Name
			if obj[f.Name] == f.Const {
				return checkJSONType(obj, name, path)
			}
		}
	}
	if disc != "" {
		return badRequest("unsupported %s \"%v\" in %s", disc, obj[disc], joinPath(path, ""))
	}
	return checkJSON(obj, typ.Subtypes, path)
}

func checkJSONLimits(owner string, f Field, v any, obj map[string]any, path string) error {
	switch x := v.(type) {
	case string:
		text := x
		if f.Limit.AfterEntities {
			pm, _ := obj["parse_mode"].(string)
			ft, err := parseFormatted(x, pm)
			if err != nil {
				return err
			}
			text = ft.text
		}
		return checkString(owner, f, text, path)
	case json.Number:
		n, _ := x.Float64()
		return checkNumber(owner, f, n, path)
	case []any:
		return checkItems(owner, f, len(x), path)
	}
	return nil
}

func isJSONInteger(v any) bool {
	switch x := v.(type) {
	case json.Number:
		_, err := strconv.ParseInt(x.String(), 10, 64)
		return err == nil
	case string: // the official server accepts numbers sent as strings
		_, err := strconv.ParseInt(x, 10, 64)
		return err == nil
	}
	return false
}

func jsonFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

func joinPath(path, field string) string {
	if field == "" {
		return path
	}
	return path + "." + field
}

// Accessors used by method handlers once validation passed.

func (c *call) has(name string) bool {
	v, ok := c.params[name]
	return ok && v != "" && v != "null"
}

func (c *call) str(name string) string { return c.params[name] }

func (c *call) int64(name string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(c.params[name]), 10, 64)
	return n, err == nil
}

func (c *call) int(name string) int {
	n, _ := c.int64(name)
	return int(n)
}

func (c *call) bool(name string) bool {
	b, _ := parseBool(c.params[name])
	return b
}

// decode unmarshals a JSON parameter into dst; absent parameters leave dst
// untouched.
func (c *call) decode(name string, dst any) error {
	if !c.has(name) {
		return nil
	}
	if err := json.NewDecoder(bytes.NewReader([]byte(c.params[name]))).Decode(dst); err != nil {
		return badRequest("can't parse %s JSON object", name)
	}
	return nil
}

// text returns the parsed form of a text parameter, parsing it if the
// validator did not (fields without an entity-aware limit).
func (c *call) text(name string) (formatted, error) {
	if f, ok := c.parsed[name]; ok {
		return f, nil
	}
	return parseFormatted(c.params[name], c.params[parseModeParam(c.method, name)])
}
