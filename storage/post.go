package storage

// Post locates a message the bot posted in a committee's group and keeps
// current: a ballot's turnout post (Ballots.GetWithPost, CastResult), a
// meeting's announcement (Meetings.GetWithAnnouncement). These are
// Telegram's ids, kept in the stored hashes beside the domain value and
// never part of it. The zero Post is "none posted"; Message is 0 while the
// outbox alone knows the message (the post was queued, not yet sent).
type Post struct {
	Chat    int64
	Message int
}

// Posted reports whether there is a post to keep current.
func (p Post) Posted() bool { return p.Chat != 0 }
