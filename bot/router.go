package bot

import (
	"context"
	"fmt"
	"regexp"
)

// Handler handles one update. Returned errors go to the error middleware,
// which turns known ones into a localized reply and logs the rest.
type Handler func(ctx context.Context, r *Request) error

// Middleware wraps a handler; middlewares run in registration order.
type Middleware func(Handler) Handler

// Chain applies mws to h so that mws[0] runs first.
func Chain(h Handler, mws ...Middleware) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

var commandName = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// Router routes requests to handlers by command name, callback route or
// update kind, in the shape of net/http's ServeMux. Registering an empty or
// duplicate route panics: that is a programming error found at start-up.
type Router struct {
	mw         []Middleware
	commands   map[string]Handler
	callbacks  map[string]Handler
	idempotent map[string]bool // callback routes registered with IdempotentCallback
	kinds      map[string]Handler
	notFound   Handler
}

// NewRouter returns an empty router.
func NewRouter() *Router {
	return &Router{
		commands:   make(map[string]Handler),
		callbacks:  make(map[string]Handler),
		idempotent: make(map[string]bool),
		kinds:      make(map[string]Handler),
	}
}

// Use adds middleware that runs for every update, before routing.
func (rt *Router) Use(mw ...Middleware) { rt.mw = append(rt.mw, mw...) }

// Command routes /name to h, wrapped in the route's own middleware.
func (rt *Router) Command(name string, h Handler, mw ...Middleware) {
	if !commandName.MatchString(name) {
		panic(fmt.Sprintf("bot: invalid command name %q", name))
	}
	register(rt.commands, "command", name, h, mw)
}

// register routes key of routes (what names them in a panic) to h, wrapped
// in mw. A duplicate route or a nil handler is a mistake of the code that
// registers: it panics at start-up.
func register(routes map[string]Handler, what, key string, h Handler, mw []Middleware) {
	if _, dup := routes[key]; dup {
		panic(fmt.Sprintf("bot: duplicate %s %q", what, key))
	}
	if h == nil {
		panic(fmt.Sprintf("bot: nil handler for %s %q", what, key))
	}
	routes[key] = Chain(h, mw...)
}

// Callback routes button presses whose data starts with "route:" to h.
func (rt *Router) Callback(route string, h Handler, mw ...Middleware) {
	if route == "" || !commandName.MatchString(route) {
		panic(fmt.Sprintf("bot: invalid callback route %q", route))
	}
	register(rt.callbacks, "callback route", route, h, mw)
}

// IdempotentCallback routes like Callback, for a handler whose every
// effect is named by the update itself (a cast id made from the callback
// query's id, outbox items named by the update), so that running it again
// — even at the same time, on another replica — changes nothing more.
// Such updates need no claim (see Dedupe and Idempotent): the handler's
// own atomic step is the claim, and the update costs two Redis round trips
// less.
func (rt *Router) IdempotentCallback(route string, h Handler, mw ...Middleware) {
	rt.Callback(route, h, mw...)
	rt.idempotent[route] = true
}

// Idempotent reports whether r goes to a route registered with
// IdempotentCallback.
func (rt *Router) Idempotent(r *Request) bool {
	return r.Kind() == KindCallback && rt.idempotent[r.Route] && !r.ForOtherBot
}

// On routes updates of a kind (KindText, KindDocument, KindMember,
// KindMigrate, KindOther) to h.
func (rt *Router) On(kind string, h Handler, mw ...Middleware) {
	switch kind {
	case KindText, KindDocument, KindMember, KindMigrate, KindOther:
	default:
		panic(fmt.Sprintf("bot: cannot route kind %q with On", kind))
	}
	register(rt.kinds, "kind", kind, h, mw)
}

// NotFound handles commands and callback routes nobody registered.
func (rt *Router) NotFound(h Handler, mw ...Middleware) {
	if h == nil {
		panic("bot: nil NotFound handler")
	}
	rt.notFound = Chain(h, mw...)
}

// Handler returns the router as one handler, with the global middleware in
// front of the routing.
func (rt *Router) Handler() Handler {
	return Chain(rt.route, rt.mw...)
}

func (rt *Router) route(ctx context.Context, r *Request) error {
	if r.ForOtherBot {
		return nil
	}
	var h Handler
	switch kind := r.Kind(); kind {
	case KindCommand:
		h = rt.commands[r.Command]
		if h == nil {
			h = rt.notFound
		}
	case KindCallback:
		h = rt.callbacks[r.Route]
		if h == nil {
			h = rt.notFound
		}
	default:
		h = rt.kinds[kind]
	}
	if h == nil {
		return nil
	}
	return h(ctx, r)
}
