package handlers

import (
	"fmt"
	"strings"

	"github.com/committeebot/committeebot/bot"
)

// A route is one kind of button: the name its callback data starts with
// and how many ':'-separated parts follow it. A button's data is built
// (data) and read back (parse) through the same route, so the two cannot
// drift apart, and data is the one place that checks Telegram's limit on
// callback data. Register wires each route to its handler.
type route struct {
	name  string
	parts int
	// idempotent: the handler names every effect after the update, so the
	// update needs no claim (bot.Router.IdempotentCallback).
	idempotent bool
}

// maxCallbackData is Telegram's limit on a button's callback_data, in bytes.
const maxCallbackData = 64

// The routes, with the shape of their data.
var (
	routeLang        = route{name: "lang", parts: 1}                  // lang:<code>
	routeUse         = route{name: "use", parts: 1}                   // use:<committee>
	routeCancel      = route{name: "cancel", parts: 0}                // cancel:
	routeInvite      = route{name: "inv", parts: 2}                   // inv:<committee>:<unit>
	routeUnitRemove  = route{name: "urm", parts: 2}                   // urm:<committee>:<unit>
	routeUnitRemoved = route{name: "urmok", parts: 2}                 // urmok:<committee>:<unit>
	routeDelegateOut = route{name: "drm", parts: 2}                   // drm:<committee>:<user>
	routeRoleUnit    = route{name: "role", parts: 2}                  // role:<committee>:<unit>
	routeRoleSet     = route{name: "roleset", parts: 3}               // roleset:<committee>:<unit>:<role>
	routeSign        = route{name: "sign", parts: 1}                  // sign:<committee>
	routeVotePick    = route{name: "bv", parts: 3}                    // bv:<committee>:<ballot>:<picks>
	routeVoteReview  = route{name: "bvr", parts: 3}                   // bvr:<committee>:<ballot>:<picks>
	routeVoteSubmit  = route{name: "bvs", parts: 3, idempotent: true} // bvs:<committee>:<ballot>:<picks>
	routeBallotClose = route{name: "bclose", parts: 2}                // bclose:<committee>:<ballot>
	routeApplyRole   = route{name: "bapply", parts: 2}                // bapply:<committee>:<ballot>
	routeForm        = route{name: "form", parts: 3}                  // form:<form>:<step>:<value>
	routeNomPage     = route{name: "nl", parts: 3}                    // nl:<committee>:<page>:<filter>
	routeNomMove     = route{name: "nmv", parts: 4}                   // nmv:<committee>:<nomination>:<from>:<to>
	routeRSVP        = route{name: "mr", parts: 3}                    // mr:<committee>:<meeting>:<1|0>
	routeICS         = route{name: "mics", parts: 2}                  // mics:<committee>:<meeting>
	routeMeetingOff  = route{name: "mcx", parts: 2}                   // mcx:<committee>:<meeting>
	routeInviteMove  = route{name: "invmv", parts: 1}                 // invmv:<invite token>
	routePick        = route{name: "pk", parts: 3}                    // pk:<committee>:<command>:<argument>
)

// fits reports whether the data of parts stays within Telegram's limit
// (for buttons whose parts come from outside the code, such as a form's
// choices).
func (rt route) fits(parts ...string) bool {
	return len(rt.join(parts)) <= maxCallbackData
}

// data builds the callback data of a button of this route. A wrong number
// of parts, or data over Telegram's limit, is a programming error (ids and
// codes are bounded where they are made): it panics, which the recovery
// middleware turns into an apology, and the tests meet first.
func (rt route) data(parts ...string) string {
	if len(parts) != rt.parts {
		panic(fmt.Sprintf("handlers: route %s takes %d parts, got %d", rt.name, rt.parts, len(parts)))
	}
	d := rt.join(parts)
	if len(d) > maxCallbackData {
		panic(fmt.Sprintf("handlers: callback data %q is over Telegram's %d bytes", d, maxCallbackData))
	}
	return d
}

func (rt route) join(parts []string) string {
	return rt.name + ":" + strings.Join(parts, ":")
}

// parse splits a pressed button's data (after the route) into the route's
// parts; ok is false for data of another shape or with an empty part
// (forged or stale).
func (rt route) parse(data string) ([]string, bool) {
	parts := strings.SplitN(data, ":", rt.parts)
	if len(parts) != rt.parts {
		return nil, false
	}
	for _, p := range parts {
		if p == "" {
			return nil, false
		}
	}
	return parts, true
}

// unknownButton answers a press whose data is forged, stale or of another
// shape: a short notice, nothing done.
func (h *core) unknownButton(r *bot.Request) {
	r.Answer(plain(h.cat.T(r.Lang, "unknown_button", nil)), false)
}

// buttonParts parses the pressed button's data for rt; on data of another
// shape it answers the press (unknownButton) and reports false.
func (h *core) buttonParts(r *bot.Request, rt route) ([]string, bool) {
	p, ok := rt.parse(r.Data)
	if !ok {
		h.unknownButton(r)
	}
	return p, ok
}

// callback registers h for the route.
func (rt route) callback(r *bot.Router, h bot.Handler) {
	if rt.idempotent {
		r.IdempotentCallback(rt.name, h)
		return
	}
	r.Callback(rt.name, h)
}

// button is a route with its handler.
type button struct {
	route route
	h     bot.Handler
}

// register registers each button's handler for its route.
func register(rt *bot.Router, buttons ...button) {
	for _, b := range buttons {
		b.route.callback(rt, b.h)
	}
}

// Register adds the plumbing's buttons: choosing the committee, cancel,
// a form's answers, a picker's choice; and the documents of a form.
func (h *core) Register(rt *bot.Router, forms *formRunner) {
	register(rt,
		button{routeUse, h.useButton},
		button{routeCancel, h.cancelButton},
		button{routeForm, forms.formButton},
		button{routePick, h.pickButton},
	)
	rt.On(bot.KindDocument, forms.document)
}
