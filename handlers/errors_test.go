package handlers

import (
	"fmt"
	"strings"
	"testing"

	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/storage"
)

// TestTableReplyOfTheVote checks the vote's refusals as the cast returns
// them (wrapped by the store, the data attached by the handler): each is
// the table's, with its message naming the ballot or the voter.
func TestTableReplyOfTheVote(t *testing.T) {
	cat, err := i18n.New("vi")
	if err != nil {
		t.Fatal(err)
	}
	data := i18n.Data{"ID": "17", "Voter": "TANDTC"}
	for _, tc := range []struct {
		err  error
		id   string
		want string
	}{
		{domain.ErrBallotClosed, "vote_closed", "17"},
		{domain.ErrDeadlinePassed, "vote_deadline", "17"},
		{domain.ErrNotEligible, "vote_not_eligible", "⛔"},
		{domain.ErrAlreadyVoted, "vote_already_unit", "TANDTC"},
	} {
		id, got, ok := tableReply(withData(fmt.Errorf("cast: %w", tc.err), data))
		if !ok || id != tc.id {
			t.Errorf("%v: table reply %q, %v; want %q", tc.err, id, ok, tc.id)
			continue
		}
		if text := cat.T("vi", id, got); !strings.Contains(text, tc.want) {
			t.Errorf("%v: %q does not name %q", tc.err, text, tc.want)
		}
	}
	// Data attached to another error leaves it what it was.
	err = withData(fmt.Errorf("cast: %w", storage.ErrUnavailable), data)
	if _, _, ok := tableReply(err); ok || !storage.IsUnavailable(err) {
		t.Errorf("an unavailable store's error with data: in the table %v, unavailable %v", ok, storage.IsUnavailable(err))
	}
}
