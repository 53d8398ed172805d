package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/committeebot/committeebot/domain"
)

const awardsYAML = `
awards:
  - code: CTD_CP
    kind: collective
    threshold: 0.80
    vi: Cờ thi đua của Chính phủ
    en: Government Emulation Flag
  - code: HERO
    kind: Individual
    threshold: "90%"
    vi: Anh hùng Lao động
    en: Labour Hero
  - code: TT_TOT
    kind: collective
    threshold: majority
    vi: Tập thể tốt
    en: Good Collective
`

func TestAwardsFromTheFile(t *testing.T) {
	isolateEnv(t)
	cfg := mustLoad(t, writeFile(t, "c.yaml", awardsYAML), nil)
	if err := cfg.Validate(CommandDemo); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	p80, _ := domain.ParseThreshold("80%")
	p90, _ := domain.ParseThreshold("0.9")
	want := []domain.Award{
		{Code: "CTD_CP", Kind: domain.Collective, Threshold: p80, NameVI: "Cờ thi đua của Chính phủ", NameEN: "Government Emulation Flag"},
		{Code: "HERO", Kind: domain.Individual, Threshold: p90, NameVI: "Anh hùng Lao động", NameEN: "Labour Hero"},
		{Code: "TT_TOT", Kind: domain.Collective, Threshold: domain.Majority(), NameVI: "Tập thể tốt", NameEN: "Good Collective"},
	}
	if diff := cmp.Diff(want, cfg.AwardCatalogue()); diff != "" {
		t.Errorf("AwardCatalogue (-want +got):\n%s", diff)
	}
}

func TestAwardsDefaultToTheBuiltInCatalogue(t *testing.T) {
	isolateEnv(t)
	cfg := mustLoad(t, "", nil)
	if cfg.Awards != nil {
		t.Errorf("Awards = %+v with nothing configured, want nil", cfg.Awards)
	}
	if diff := cmp.Diff(domain.DefaultAwards(), cfg.AwardCatalogue()); diff != "" {
		t.Errorf("AwardCatalogue (-want +got):\n%s", diff)
	}
}

func TestBadAwardsAreProblemsNamingTheEntry(t *testing.T) {
	isolateEnv(t)
	const yaml = `
awards:
  - {code: CTD_CP, kind: collective, threshold: 0.8, vi: Cờ, en: Flag}
  - {code: CTD_CP, kind: collective, threshold: 0.9, vi: Cờ 2, en: Flag 2}
  - {code: BIG, kind: collective, threshold: 1.5, vi: X, en: X}
  - {code: ZERO, kind: collective, threshold: 0, vi: X, en: X}
  - {code: TEAM, kind: team, threshold: 0.5, vi: X, en: X}
  - {code: bad code, kind: individual, threshold: 0.5, vi: X, en: X}
  - {code: NOVI, kind: individual, threshold: 0.5, en: X}
  - {code: TYPO, kind: individual, treshold: 0.5, vi: X, en: X}
  - just a string
  - {code: OK, kind: individual, threshold: 2/3, vi: X, en: X}
`
	cfg := mustLoad(t, writeFile(t, "c.yaml", yaml), nil)
	err := cfg.Validate(CommandDemo)
	want := []string{"awards[1]", "awards[2]", "awards[3]", "awards[4]", "awards[5]", "awards[6]", "awards[7]", "awards[8]"}
	if diff := cmp.Diff(want, problemKeys(t, err)); diff != "" {
		t.Fatalf("problem keys (-want +got):\n%s\nerror: %v", diff, err)
	}
	for _, msg := range []string{"already used by awards[0]", `threshold "1.5"`, `threshold "0"`, `unknown kind "team"`, `code "bad code"`, "vi: a name", `unknown field "treshold"`, "want a section"} {
		if !strings.Contains(err.Error(), msg) {
			t.Errorf("problems do not say %q:\n%v", msg, err)
		}
	}
}

func TestEmptyAwardsListIsAProblem(t *testing.T) {
	isolateEnv(t)
	cfg := mustLoad(t, writeFile(t, "c.yaml", "awards: []\n"), nil)
	if got := problemKeys(t, cfg.Validate(CommandDemo)); !cmp.Equal(got, []string{"awards"}) {
		t.Errorf("problem keys = %v, want [awards]", got)
	}
}

func TestAwardsCannotComeFromTheEnvironment(t *testing.T) {
	isolateEnv(t)
	t.Setenv("COMMITTEEBOT_AWARDS", "CTD_CP")
	cfg := mustLoad(t, "", nil)
	if got := problemKeys(t, cfg.Validate(CommandDemo)); !cmp.Equal(got, []string{"awards"}) {
		t.Errorf("problem keys = %v, want [awards]", got)
	}
}

func TestPrintAwards(t *testing.T) {
	isolateEnv(t)
	// Configured: printed as written, and loads back the same.
	cfg := mustLoad(t, writeFile(t, "c.yaml", awardsYAML), nil)
	out := printed(t, cfg)
	back := mustLoad(t, writeFile(t, "printed.yaml", out), nil)
	if diff := cmp.Diff(cfg.Awards, back.Awards); diff != "" {
		t.Errorf("printed awards load back differently (-want +got):\n%s\nprinted:\n%s", diff, out)
	}
	// Not configured: the default catalogue, commented out.
	out = printed(t, mustLoad(t, "", nil))
	for _, want := range []string{"# awards: not set", `#   - code: "CTD_CP"`, `#     threshold: "80%"`, `#     vi: "Cờ thi đua của Chính phủ"`} {
		if !strings.Contains(out, want) {
			t.Errorf("Print lacks %q:\n%s", want, out)
		}
	}
}
