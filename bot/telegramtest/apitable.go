package telegramtest

import "strings"

//go:generate go run ./internal/apigen -in ../../../shared/telegram/api.json -out apitable_gen.go

// Unit says what the bounds of a Limit measure.
type Unit uint8

// Units of a Limit.
const (
	// UnitNone marks a field without a stated limit.
	UnitNone Unit = iota
	// UnitChars counts characters of a string. The stand-in counts UTF-16
	// code units, the unit Telegram uses for entity offsets and lengths.
	UnitChars
	// UnitBytes counts UTF-8 bytes of a string.
	UnitBytes
	// UnitValue bounds the numeric value of an Integer or Float.
	UnitValue
	// UnitItems bounds the number of elements of an array.
	UnitItems
)

// String names the unit as the official documentation does.
func (u Unit) String() string {
	switch u {
	case UnitChars:
		return "characters"
	case UnitBytes:
		return "bytes"
	case UnitValue:
		return "value"
	case UnitItems:
		return "items"
	default:
		return "none"
	}
}

// Limit is an inclusive range a field must respect, as stated by the
// official documentation ("1-4096 characters after entities parsing").
type Limit struct {
	Unit     Unit
	Min, Max int64
	// AfterEntities is set when the length counts the text left after
	// parse_mode markup has been removed and entities decoded.
	AfterEntities bool
}

// Field is one parameter of a method or one field of a type.
type Field struct {
	Name string
	// Types are the Telegram type names the field accepts: "Integer",
	// "String", "Boolean", "Float", "InputFile", "Array of X" or an object
	// type such as "InlineKeyboardMarkup".
	Types []string
	// Required is the documented required flag.
	Required bool
	// CondRequired marks fields the documentation requires only in some
	// combinations ("required if inline_message_id is not specified"); the
	// method handlers check those.
	CondRequired bool
	// EmptyOK marks required fields for which the documentation gives an
	// empty string a meaning (setWebhook url: remove the webhook).
	EmptyOK bool
	Limit   Limit
	// Charset restricts the characters of a String ("A-Za-z0-9_-").
	Charset string
	// Const is the fixed value of a discriminator field ("type" of a
	// BotCommandScope subtype, "status" of a ChatMember subtype).
	Const string
}

// Method is a Bot API method: its parameters and result types.
type Method struct {
	Name    string
	Returns []string
	Params  []Field
}

// Type is a Bot API object type. A type with Subtypes is a union resolved
// by the Const discriminator of its subtypes.
type Type struct {
	Name     string
	Subtypes []string
	Fields   []Field
}

// Param returns the parameter called name.
func (m *Method) Param(name string) (Field, bool) {
	for _, f := range m.Params {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// ReturnsTrue reports whether the method's only result is True.
func (m *Method) ReturnsTrue() bool {
	return len(m.Returns) == 1 && m.Returns[0] == "Boolean"
}

// Field returns the field called name.
func (t *Type) Field(name string) (Field, bool) {
	for _, f := range t.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

var (
	methodIndex = indexMethods()
	typeIndex   = indexTypes()
)

func indexMethods() map[string]*Method {
	idx := make(map[string]*Method, len(apiMethods))
	for i := range apiMethods {
		// Method names are case-insensitive on the real server.
		idx[strings.ToLower(apiMethods[i].Name)] = &apiMethods[i]
	}
	return idx
}

func indexTypes() map[string]*Type {
	idx := make(map[string]*Type, len(apiTypes))
	for i := range apiTypes {
		idx[apiTypes[i].Name] = &apiTypes[i]
	}
	return idx
}

// methodAliases maps names the official server still answers although the
// documentation renamed them, and that tgbotapi v5.5.1 still calls.
var methodAliases = map[string]string{
	"getchatmemberscount": "getChatMemberCount",
	"kickchatmember":      "banChatMember",
}

// LookupMethod returns the facts of a Bot API method. Names are matched
// case-insensitively, as the official server does.
func LookupMethod(name string) (*Method, bool) {
	key := strings.ToLower(name)
	if alias, ok := methodAliases[key]; ok {
		key = strings.ToLower(alias)
	}
	m, ok := methodIndex[key]
	return m, ok
}

// LookupType returns the facts of a Bot API input type.
func LookupType(name string) (*Type, bool) {
	t, ok := typeIndex[name]
	return t, ok
}

// APIVersion is the Bot API version the table was generated from.
func APIVersion() string { return apiVersion }
