package handlers

import (
	"fmt"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/committeebot/committeebot/domain"
)

// icsLocalTime is RFC 5545's form of a local time with a TZID.
const icsLocalTime = "20060102T150405"

// meetingUID is the calendar identity of a meeting: the same for every
// version of the file, so calendars update the event instead of adding
// another.
func (h *meetingHandlers) meetingUID(c domain.Committee, m domain.Meeting) string {
	host := "committeebot"
	if h.botUsername != "" {
		host = strings.ToLower(h.botUsername) + ".t.me"
	}
	return fmt.Sprintf("meeting-%s-%s@%s", c.ID, m.ID, host)
}

// meetingICS renders a meeting as an RFC 5545 calendar with one event:
// DTSTART and DTEND in the committee's time zone (with its VTIMEZONE),
// LOCATION, the agenda in DESCRIPTION, SEQUENCE counting the edits. Once
// cancelled it is METHOD:CANCEL with STATUS:CANCELLED and the SEQUENCE
// the cancellation raised (RFC 5546), so calendars remove the event.
func (h *meetingHandlers) meetingICS(c domain.Committee, m domain.Meeting) []byte {
	loc := c.Location()
	cal := ics.NewCalendarFor("committeebot")
	cal.SetProductId("-//committeebot//Meetings//VI")
	if m.Cancelled() {
		cal.SetMethod(ics.MethodCancel)
	} else {
		cal.SetMethod(ics.MethodPublish)
	}
	cal.SetCalscale("GREGORIAN")
	cal.AddVTimezone(vtimezone(loc, m.Start))

	ev := cal.AddEvent(h.meetingUID(c, m))
	ev.SetDtStampTime(h.now())
	ev.SetCreatedTime(m.Created)
	ev.SetModifiedAt(m.Updated)
	ev.SetSequence(m.Sequence)
	ev.SetProperty(ics.ComponentPropertyDtStart, m.Start.In(loc).Format(icsLocalTime), ics.WithTZID(loc.String()))
	ev.SetProperty(ics.ComponentPropertyDtEnd, m.End(h.meetingLength).In(loc).Format(icsLocalTime), ics.WithTZID(loc.String()))
	ev.SetSummary(m.Title)
	ev.SetLocation(m.Location)
	ev.SetDescription(h.text.icsDescription(c, m))
	if m.Cancelled() {
		ev.SetStatus(ics.ObjectStatusCancelled)
	} else {
		ev.SetStatus(ics.ObjectStatusConfirmed)
	}
	// RFC 5545 lines end with CRLF (the library's default is LF).
	return []byte(cal.Serialize(ics.WithNewLine("\r\n")))
}

// vtimezone describes loc around t: one observance with the offset in
// force at t (enough for clients to place the event exactly; they also
// know the zone by its TZID).
func vtimezone(loc *time.Location, t time.Time) *ics.VTimezone {
	tz := ics.NewTimezone(loc.String())
	name, off := t.In(loc).Zone()
	std := tz.AddStandard()
	std.SetProperty(ics.ComponentPropertyDtStart, "19700101T000000")
	std.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetfrom), utcOffset(off))
	std.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetto), utcOffset(off))
	std.SetProperty(ics.ComponentProperty(ics.PropertyTzname), name)
	return tz
}

// utcOffset is RFC 5545's UTC-OFFSET: +0700.
func utcOffset(sec int) string {
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	return fmt.Sprintf("%s%02d%02d", sign, sec/3600, sec%3600/60)
}
