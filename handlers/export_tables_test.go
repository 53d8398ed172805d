package handlers

import (
	"bytes"
	"testing"
	"time"

	"github.com/committeebot/committeebot/domain"
)

// The same data exported at the same moment is the same zip, byte for
// byte: a second export can be told identical, and archives deduplicated.
func TestTablesZipIsDeterministic(t *testing.T) {
	a := archive{
		Units:   []archiveUnit{{Code: "TANDTC", Name: "Tòa án nhân dân tối cao", Added: "2024-04-01T15:00:00+07:00"}},
		Ballots: []archiveBallot{{ID: "1", Kind: domain.KindMotion, Questions: []archiveQuestion{{ID: "1", Options: []archiveOption{{Key: "yes"}, {Key: "no"}}}}}},
	}
	at := time.Date(2024, 4, 1, 15, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	first, err := tablesZip(exportTables(a), at)
	if err != nil {
		t.Fatal(err)
	}
	second, err := tablesZip(exportTables(a), at)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Error("two zips of the same data at the same time differ")
	}
}

// What the archive gives of a closed secret ballot follows the result
// post's rule: counts and the choices next to receipts only when
// disclosed.
func TestArchiveResultOfASecretBallot(t *testing.T) {
	q := domain.Question{ID: "1", Text: "Bầu", Options: []domain.Option{{Key: "A"}, {Key: "B"}}}
	b := domain.Ballot{Kind: domain.KindElection, Secret: true, Questions: []domain.Question{q},
		Voters: []string{"A", "B", "C"}, Quorum: domain.TwoThirds()}
	for _, tc := range []struct {
		name      string
		choices   []domain.Choice
		disclosed bool
	}{
		{"one ballot", []domain.Choice{{"1": "A"}}, false},
		{"two ballots", []domain.Choice{{"1": "A"}, {"1": "B"}}, false},
		{"three ballots", []domain.Choice{{"1": "A"}, {"1": "B"}, {"1": "A"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.Tally(tc.choices)
			for i, c := range tc.choices {
				r.Receipts = append(r.Receipts, domain.Receipt{Code: string(rune('K' + i)), Choice: c})
			}
			ar := archiveResultOf(b, r)
			if ar.Disclosed != tc.disclosed || ar.Turnout != len(tc.choices) {
				t.Errorf("disclosed %v turnout %d, want %v %d", ar.Disclosed, ar.Turnout, tc.disclosed, len(tc.choices))
			}
			if got := len(ar.Questions[0].Counts) > 0; got != tc.disclosed {
				t.Errorf("counts given: %v, want %v", got, tc.disclosed)
			}
			if len(ar.Receipts) != len(tc.choices) {
				t.Fatalf("%d receipts, want %d", len(ar.Receipts), len(tc.choices))
			}
			for _, rc := range ar.Receipts {
				if (rc.Choice != nil) != tc.disclosed {
					t.Errorf("receipt %s choice %v with disclosed %v", rc.Code, rc.Choice, tc.disclosed)
				}
			}
		})
	}
}
