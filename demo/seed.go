package demo

import "github.com/committeebot/committeebot/bot/telegramtest"

// person is someone the demo user can play.
type person struct {
	user telegramtest.User
	unit string // member unit code; "" for the secretary
}

// groupChat is the bloc's Telegram group in the demo.
var groupChat = telegramtest.Chat{ID: -1001000000001, Type: "supergroup", Title: "Khối thi đua Nội chính"}

// secretaryID is the demo's global admin.
const secretaryID = 1001

// people of the bloc from the seed article: the secretariat and one
// delegate for each of its eight member units.
var people = []person{
	{user: telegramtest.User{ID: secretaryID, FirstName: "Thư ký", LastName: "Khối", Username: "thuky_khoi", LanguageCode: "vi"}},
	{user: telegramtest.User{ID: 2001, FirstName: "Minh", LastName: "Nguyễn", Username: "minh_tandtc", LanguageCode: "vi"}, unit: "TANDTC"},
	{user: telegramtest.User{ID: 2002, FirstName: "Lan", LastName: "Trần", Username: "lan_vksndtc", LanguageCode: "vi"}, unit: "VKSNDTC"},
	{user: telegramtest.User{ID: 2003, FirstName: "Hùng", LastName: "Lê", Username: "hung_ktnn", LanguageCode: "vi"}, unit: "KTNN"},
	{user: telegramtest.User{ID: 2004, FirstName: "Hà", LastName: "Phạm", Username: "ha_bqp", LanguageCode: "vi"}, unit: "BQP"},
	{user: telegramtest.User{ID: 2005, FirstName: "Tuấn", LastName: "Vũ", Username: "tuan_bca", LanguageCode: "vi"}, unit: "BCA"},
	{user: telegramtest.User{ID: 2006, FirstName: "Mai", LastName: "Đặng", Username: "mai_btp", LanguageCode: "vi"}, unit: "BTP"},
	{user: telegramtest.User{ID: 2007, FirstName: "Nam", LastName: "Bùi", Username: "nam_ttcp", LanguageCode: "vi"}, unit: "TTCP"},
	{user: telegramtest.User{ID: 2008, FirstName: "Hoa", LastName: "Đỗ", Username: "hoa_bqllang", LanguageCode: "en"}, unit: "BQLLANG"},
}
