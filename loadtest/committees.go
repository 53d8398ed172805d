package loadtest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/committeebot/committeebot/bot/telegramtest"
	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/storage"
)

var (
	startLink = regexp.MustCompile(`\?start=([A-Za-z0-9_-]+)`)
	voteLink  = regexp.MustCompile(`\?start=(vote_([0-9A-Za-z]+)_([0-9A-Za-z]+))$`)
)

// bloc is a committee set up through the bot's commands: its group, its
// admins (global admins, in bot.admins) and one delegate per unit.
type bloc struct {
	id     string
	name   string
	group  int64
	admins []int64
	units  []string
	voters []int64 // voters[i] is the delegate of units[i]
}

// blocPlan says what setupBloc builds.
type blocPlan struct {
	name   string
	group  int64
	admins []int64
	units  int
	// voterBase: the delegate of unit i is user voterBase+i.
	voterBase int64
}

// addPeople registers the plan's users and group in the stand-in.
func addPeople(tg *telegramtest.Server, p blocPlan) {
	members := make([]telegramtest.Member, 0, len(p.admins)+p.units)
	for i, a := range p.admins {
		tg.AddUser(telegramtest.User{ID: a, FirstName: fmt.Sprintf("Thư ký %d", i+1), Username: fmt.Sprintf("secretary%d", a)})
		tg.StartPrivate(a)
		status := telegramtest.StatusMember
		if i == 0 {
			status = telegramtest.StatusAdministrator
		}
		members = append(members, telegramtest.Member{UserID: a, Status: status})
	}
	for i := range p.units {
		id := p.voterBase + int64(i)
		tg.AddUser(telegramtest.User{ID: id, FirstName: fmt.Sprintf("Đại biểu %d", id)})
		members = append(members, telegramtest.Member{UserID: id, Status: telegramtest.StatusMember})
	}
	tg.AddGroup(telegramtest.Chat{ID: p.group, Type: telegramtest.ChatSupergroup, Title: p.name}, members...)
}

// setupBloc builds a committee the way a secretary does: /setup in the
// group by the first admin, /status in the group by the others (so their
// private commands apply to this committee), then, split among the
// admins and in their private chats, /unit_add and /invite for every
// unit; each delegate follows the invite with /start <token> as soon as
// it arrives.
func setupBloc(ctx context.Context, d *driver, committees *storage.Committees, p blocPlan) (*bloc, error) {
	addPeople(d.tg, p)
	b := &bloc{name: p.name, group: p.group, admins: p.admins}
	if _, err := d.sayWant(ctx, p.group, p.admins[0], "/setup "+p.name, anyReply, p.group); err != nil {
		return nil, err
	}
	c, err := committees.ByChat(ctx, p.group)
	if err != nil {
		return nil, fmt.Errorf("/setup %s: no committee bound to the group: %w", p.name, err)
	}
	b.id = c.ID
	for _, a := range p.admins[1:] {
		if _, err := d.sayWant(ctx, p.group, a, "/status", anyReply, p.group); err != nil {
			return nil, err
		}
	}
	for i := range p.units {
		b.units = append(b.units, fmt.Sprintf("U%02d", i+1))
		b.voters = append(b.voters, p.voterBase+int64(i))
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
		cancel()
	}
	for k, admin := range p.admins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := k; i < len(b.units); i += len(p.admins) {
				code, voter := b.units[i], b.voters[i]
				if _, err := d.sayWant(ctx, admin, admin, fmt.Sprintf("/unit_add %s Đơn vị số %d", code, i+1),
					func(m telegramtest.Message) bool { return strings.Contains(m.Text, code) }, admin); err != nil {
					fail(err)
					return
				}
				inv, err := d.sayWant(ctx, admin, admin, "/invite "+code,
					func(m telegramtest.Message) bool { return startLink.MatchString(m.Text) }, admin)
				if err != nil {
					fail(err)
					return
				}
				token := startLink.FindStringSubmatch(inv.Text)[1]
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := d.sayWant(ctx, voter, voter, "/start "+token,
						func(m telegramtest.Message) bool { return strings.Contains(m.Text, code) }, p.group); err != nil {
						fail(fmt.Errorf("delegate %d joining %s: %w", voter, code, err))
					}
				}()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, fmt.Errorf("set up %s: %w", p.name, errors.Join(errs...))
	}
	return b, nil
}

// ballotRef is an open ballot and the /start payload of its Vote button.
type ballotRef struct {
	committee string
	id        string
	payload   string
	secret    bool
}

// openBallot opens a ballot with an admin's command in the group and
// reads the Vote button of the group post.
func openBallot(ctx context.Context, d *driver, b *bloc, cmd string, secret bool) (ballotRef, error) {
	post, err := d.sayWant(ctx, b.group, b.admins[0], cmd, func(m telegramtest.Message) bool {
		for _, btn := range m.Buttons() {
			if voteLink.MatchString(btn.URL) {
				return true
			}
		}
		return false
	}, b.group)
	if err != nil {
		return ballotRef{}, err
	}
	for _, btn := range post.Buttons() {
		if m := voteLink.FindStringSubmatch(btn.URL); m != nil {
			if m[2] != b.id {
				return ballotRef{}, fmt.Errorf("%s: the Vote button is for committee %s, not %s", firstWord(cmd), m[2], b.id)
			}
			return ballotRef{committee: m[2], id: m[3], payload: m[1], secret: secret}, nil
		}
	}
	return ballotRef{}, fmt.Errorf("%s: no Vote button", firstWord(cmd))
}

// card is a voter's personal ballot: the private message whose button is
// pressed, and the callback data of "submit" with the first option of
// every question picked.
type card struct {
	voter   int64
	message int
	submit  string
}

// openCard follows the Vote link as the voter (/start vote_…) and reads
// the personal ballot the bot sends: the first option's button carries
// "bv:<committee>:<ballot>:<picks>"; submitting those picks is
// "bvs:<committee>:<ballot>:<picks>" (handlers/ballot_vote.go).
func openCard(ctx context.Context, d *driver, voter int64, br ballotRef) (card, error) {
	m, err := d.sayWant(ctx, voter, voter, "/start "+br.payload, func(m telegramtest.Message) bool {
		for _, btn := range m.Buttons() {
			if strings.HasPrefix(btn.CallbackData, "bv:") {
				return true
			}
		}
		return false
	})
	if err != nil {
		return card{}, fmt.Errorf("voter %d opening ballot %s: %w", voter, br.id, err)
	}
	for _, btn := range m.Buttons() {
		if rest, ok := strings.CutPrefix(btn.CallbackData, "bv:"); ok {
			return card{voter: voter, message: m.MessageID, submit: "bvs:" + rest}, nil
		}
	}
	return card{}, fmt.Errorf("voter %d: no ballot button", voter)
}

// addMembers makes users delegates of unit directly in Redis, with the
// invite scripts the bot itself uses (create, then redeem), as the
// thousand-voter test in app/ does: joining through the chat posts a
// notice in the group for each, and a group takes 20 messages a minute.
func addMembers(ctx context.Context, committees *storage.Committees, committee, unit string, by int64, users []telegramtest.User) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan telegramtest.User)
	errc := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range next {
				inv, err := committees.CreateInvite(ctx, committee, unit, by)
				if err == nil {
					_, _, err = committees.RedeemInvite(ctx, inv.Token, domain.Delegate{UserID: u.ID, Name: u.FirstName, Username: u.Username})
				}
				if err != nil {
					errc <- fmt.Errorf("add delegate %d to %s: %w", u.ID, unit, err)
					cancel()
					return
				}
			}
		}()
	}
	go func() {
		defer close(next)
		for _, u := range users {
			select {
			case next <- u:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	close(errc)
	return <-errc
}
