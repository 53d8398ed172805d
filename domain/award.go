package domain

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// AwardKind says who an award goes to.
type AwardKind string

// Award kinds.
const (
	// Collective awards go to a collective: a member unit or a named
	// department, team or agency.
	Collective AwardKind = "collective"
	// Individual awards go to a person.
	Individual AwardKind = "individual"
)

// Valid reports whether k is a known kind.
func (k AwardKind) Valid() bool { return k == Collective || k == Individual }

// Threshold is the share of the whole electorate that must approve an award:
// a fraction in (0, 1], or a simple majority (more than half). Shares count
// against the whole electorate, not the votes cast (the law's "tổng số
// thành viên"). The zero value is invalid; build one with Fraction,
// Majority or ParseThreshold.
type Threshold struct {
	num, den int64 // the reduced fraction when !majority
	majority bool
	set      bool
}

// Majority is "more than half of the electorate".
func Majority() Threshold { return Threshold{majority: true, set: true} }

// Fraction is the threshold num/den, which must lie in (0, 1].
func Fraction(num, den int64) (Threshold, error) {
	if den <= 0 || num <= 0 || num > den {
		return Threshold{}, fmt.Errorf("%d/%d: %w", num, den, ErrThreshold)
	}
	g := gcd(num, den)
	return Threshold{num: num / g, den: den / g, set: true}, nil
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// maxDecimals bounds the digits after the point ParseThreshold accepts, so
// the fraction stays exact and small.
const maxDecimals = 6

// ParseThreshold reads a threshold as configured or typed: "majority", a
// decimal ("0.8", "1"), a percentage ("80%", "66.7%") or a fraction
// ("2/3"). The value must lie in (0, 1]; it is kept as an exact fraction so
// that 0.9 of 10 needs 9 votes, not 10.
func ParseThreshold(s string) (Threshold, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	switch {
	case s == "majority":
		return Majority(), nil
	case strings.Contains(s, "/"):
		a, b, _ := strings.Cut(s, "/")
		num, err1 := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
		den, err2 := strconv.ParseInt(strings.TrimSpace(b), 10, 64)
		if err1 != nil || err2 != nil || den > 1_000_000 {
			return Threshold{}, fmt.Errorf("%q: %w", s, ErrThreshold)
		}
		return Fraction(num, den)
	case strings.HasSuffix(s, "%"):
		num, den, ok := decimal(strings.TrimSpace(strings.TrimSuffix(s, "%")))
		if !ok {
			return Threshold{}, fmt.Errorf("%q: %w", s, ErrThreshold)
		}
		return Fraction(num, den*100)
	}
	num, den, ok := decimal(s)
	if !ok {
		return Threshold{}, fmt.Errorf("%q: %w", s, ErrThreshold)
	}
	return Fraction(num, den)
}

var decimalRE = regexp.MustCompile(`^[0-9]{1,4}(\.[0-9]{1,6})?$`)

// decimal reads "0.85" as 85/100 exactly.
func decimal(s string) (num, den int64, ok bool) {
	if !decimalRE.MatchString(s) {
		return 0, 0, false
	}
	whole, frac, _ := strings.Cut(s, ".")
	den = 1
	for range len(frac) {
		den *= 10
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || len(frac) > maxDecimals {
		return 0, 0, false
	}
	return n, den, true
}

// Equal reports whether t and o are the same threshold (go-cmp uses it).
func (t Threshold) Equal(o Threshold) bool { return t == o }

// Valid reports whether t was built by one of the constructors.
func (t Threshold) Valid() bool { return t.set }

// IsMajority reports whether t is a simple majority.
func (t Threshold) IsMajority() bool { return t.majority }

// Needed is the number of approvals a nomination needs in an electorate of
// n: ceil(fraction × n), or n/2+1 for a majority. With 8 units and 80% that
// is 7 (ceil(6.4)).
func (t Threshold) Needed(n int) int {
	if n <= 0 {
		return 0
	}
	if t.majority || !t.set {
		return n/2 + 1
	}
	return int((t.num*int64(n) + t.den - 1) / t.den)
}

// Percent is the threshold as a percentage (50 for a majority, which is
// "more than" rather than "at least" 50%).
func (t Threshold) Percent() float64 {
	if t.majority || !t.set {
		return 50
	}
	return float64(t.num) * 100 / float64(t.den)
}

// String renders t the way ParseThreshold reads it: "majority", "80%",
// "66.67%" when the percentage is exact to two decimals, else "2/3".
func (t Threshold) String() string {
	switch {
	case !t.set:
		return ""
	case t.majority:
		return "majority"
	case 100%t.den == 0:
		return strconv.FormatInt(t.num*(100/t.den), 10) + "%"
	case 10000%t.den == 0:
		return strconv.FormatFloat(float64(t.num*(10000/t.den))/100, 'f', -1, 64) + "%"
	}
	return strconv.FormatInt(t.num, 10) + "/" + strconv.FormatInt(t.den, 10)
}

// Award is one award of the catalogue that nominations are made for.
type Award struct {
	Code      string // e.g. "CTD_CP"
	Kind      AwardKind
	Threshold Threshold
	NameVI    string // official Vietnamese name
	NameEN    string // English gloss
}

// Name is the award's name in lang ("en" or anything else for Vietnamese).
func (a Award) Name(lang string) string {
	if lang == "en" && a.NameEN != "" {
		return a.NameEN
	}
	return a.NameVI
}

var awardCodeRE = regexp.MustCompile(`^[A-Z0-9_-]{2,16}$`)

// ValidAwardCode checks an award code: 2–16 of A-Z, 0-9, _ and -.
func ValidAwardCode(code string) error {
	if !awardCodeRE.MatchString(code) {
		return ErrAwardCode
	}
	return nil
}

// Validate checks an award and returns every problem joined.
func (a Award) Validate() error {
	var errs []error
	if err := ValidAwardCode(a.Code); err != nil {
		errs = append(errs, fmt.Errorf("code %q: %w", a.Code, err))
	}
	if !a.Kind.Valid() {
		errs = append(errs, fmt.Errorf("kind %q: %w", a.Kind, ErrAwardKind))
	}
	if !a.Threshold.Valid() {
		errs = append(errs, ErrThreshold)
	}
	for _, n := range []string{a.NameVI, a.NameEN} {
		if l := utf8.RuneCountInString(strings.TrimSpace(n)); l == 0 || l > MaxNameLen {
			errs = append(errs, ErrAwardName)
			break
		}
	}
	return errors.Join(errs...)
}

// FindAward looks an award up by code, ignoring case and surrounding
// spaces.
func FindAward(awards []Award, code string) (Award, bool) {
	code = strings.ToUpper(strings.TrimSpace(code))
	for _, a := range awards {
		if a.Code == code {
			return a, true
		}
	}
	return Award{}, false
}

// DefaultAwards is the catalogue used when the configuration names none:
// the titles a central emulation bloc most often votes on. Thresholds are
// the legal ballot shares (80% for the flags, the Prime Minister's
// certificate and grassroots fighters, 90% for national and ministry-level
// fighters); a simple majority where no statutory share applies. It
// returns a new slice on every call.
func DefaultAwards() []Award {
	p80, _ := Fraction(4, 5)
	p90, _ := Fraction(9, 10)
	return []Award{
		{Code: "CTD_CP", Kind: Collective, Threshold: p80, NameVI: "Cờ thi đua của Chính phủ", NameEN: "Government Emulation Flag"},
		{Code: "CTD_BO", Kind: Collective, Threshold: p80, NameVI: "Cờ thi đua cấp bộ, ngành", NameEN: "Ministry-level Emulation Flag"},
		{Code: "BK_TTG", Kind: Collective, Threshold: p80, NameVI: "Bằng khen của Thủ tướng Chính phủ", NameEN: "Prime Minister's Certificate of Merit"},
		{Code: "TTLDXS", Kind: Collective, Threshold: Majority(), NameVI: "Tập thể lao động xuất sắc", NameEN: "Excellent Labour Collective"},
		{Code: "CSTD_TQ", Kind: Individual, Threshold: p90, NameVI: "Chiến sĩ thi đua toàn quốc", NameEN: "National Emulation Fighter"},
		{Code: "CSTD_BO", Kind: Individual, Threshold: p90, NameVI: "Chiến sĩ thi đua cấp bộ, ngành", NameEN: "Ministry-level Emulation Fighter"},
		{Code: "CSTD_CS", Kind: Individual, Threshold: p80, NameVI: "Chiến sĩ thi đua cơ sở", NameEN: "Grassroots Emulation Fighter"},
		{Code: "KNC", Kind: Individual, Threshold: Majority(), NameVI: "Kỷ niệm chương", NameEN: "Commemorative Medal"},
	}
}
