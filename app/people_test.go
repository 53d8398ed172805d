package app_test

import "github.com/committeebot/committeebot/app/apptest"

// The people and chats every harness has (apptest.StartBot), by the names
// the tests use.
const (
	adminID = apptest.AdminID // the bot's global admin
	aliceID = apptest.AliceID // administrator of the group
	bobID   = apptest.BobID
	carolID = apptest.CarolID
	daveID  = apptest.DaveID
	groupID = apptest.GroupID
	botName = apptest.BotName
)
