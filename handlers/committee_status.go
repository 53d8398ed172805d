package handlers

import (
	"context"
	"errors"
	"strings"

	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
	"github.com/committeebot/committeebot/storage"
)

// statusHeader: name, year, head and deputy, units and delegates.
func (h *committeeHandlers) statusHeader(ctx context.Context, lang string, c domain.Committee) (string, error) {
	units, err := h.committees.Units(ctx, c.ID)
	if err != nil {
		return "", err
	}
	delegates, err := h.committees.Delegates(ctx, c.ID)
	if err != nil {
		return "", err
	}
	names := map[string]string{}
	for _, u := range units {
		names[u.Code] = u.Name
	}
	holder := func(code string) i18n.Raw {
		if code == "" {
			return i18n.Raw(h.cat.T(lang, "status_role_none", nil))
		}
		return i18n.Raw(h.cat.T(lang, "status_role_holder", i18n.Data{"Code": code, "Name": names[code]}))
	}
	var b strings.Builder
	b.WriteString(h.cat.T(lang, "status_title", i18n.Data{"Name": c.Name, "Year": c.Year}))
	b.WriteString("\n")
	b.WriteString(h.cat.T(lang, "status_head", i18n.Data{"Holder": holder(c.Head)}))
	b.WriteString("\n")
	b.WriteString(h.cat.T(lang, "status_deputy", i18n.Data{"Holder": holder(c.Deputy)}))
	if next := h.nextYearRoles(ctx, c); next != "" {
		b.WriteString("\n" + h.cat.T(lang, "status_next_roles", i18n.Data{"Year": c.Year + 1, "Roles": i18n.Raw(h.rolesText(lang, next))}))
	}
	b.WriteString("\n")
	b.WriteString(h.cat.T(lang, "status_members", i18n.Data{
		"Units":     i18n.Raw(h.cat.N(lang, "status_units", len(units), nil)),
		"Delegates": i18n.Raw(h.cat.N(lang, "status_delegates", len(delegates), nil)),
	}))
	return b.String(), nil
}

// statusCovenant: the covenant's signing progress.
func (h *committeeHandlers) statusCovenant(ctx context.Context, lang string, c domain.Committee) (string, error) {
	cov, err := h.committees.Covenant(ctx, c.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	total := len(cov.Signed) + len(cov.Pending)
	if len(cov.Pending) == 0 {
		return h.cat.T(lang, "status_covenant_done", i18n.Data{"Year": cov.Year, "Total": total}), nil
	}
	return h.cat.T(lang, "status_covenant", i18n.Data{
		"Year": cov.Year, "Signed": len(cov.Signed), "Total": total, "Pending": strings.Join(cov.Pending, ", "),
	}), nil
}

// nextYearRoles returns "head:CODE,deputy:CODE" for the roles already
// given for the year after the committee's (an election held ahead), or "".
func (h *committeeHandlers) nextYearRoles(ctx context.Context, c domain.Committee) string {
	hist, err := h.committees.RoleHistory(ctx, c.ID)
	if err != nil {
		return ""
	}
	roles := map[string]string{}
	for _, ch := range hist {
		if ch.Year == c.Year+1 {
			roles[ch.Role] = ch.Unit
		}
	}
	var parts []string
	for _, r := range []string{domain.RoleHead, domain.RoleDeputy} {
		if roles[r] != "" {
			parts = append(parts, r+":"+roles[r])
		}
	}
	return strings.Join(parts, ",")
}

// rolesText renders nextYearRoles for people: "Khối trưởng TANDTC, Khối
// phó KTNN".
func (h *committeeHandlers) rolesText(lang, roles string) string {
	var out []string
	for _, p := range strings.Split(roles, ",") {
		role, code, _ := strings.Cut(p, ":")
		out = append(out, h.core.roleName(lang, role)+" <b>"+escape(code)+"</b>")
	}
	return strings.Join(out, ", ")
}
