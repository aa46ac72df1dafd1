package accounts

import (
	"context"
	"time"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/pagetoken"
)

// MembersPageSize is the page size of an organisation's member list.
const MembersPageSize = 100

// Member is a user's membership of an organisation.
type Member struct {
	model.User
	Role model.Role
	// JoinedAt is when the user joined the organisation.
	JoinedAt time.Time
}

// ListMembers lists an organisation's members by login (byte order on both
// databases), one page at a time; token is the previous page's next token,
// and the next token is empty on the last page.
func (s *Store) ListMembers(ctx context.Context, orgID int64, token string) ([]Member, string, error) {
	after := ""
	if token != "" {
		t, err := pagetoken.Decode(token, "members")
		if err != nil {
			return nil, "", err
		}
		after = t.After
	}
	var rows []Member
	login := s.dialect.TextOrder("u.login")
	err := s.db.WithContext(ctx).Raw(`SELECT u.id, u.login, u.email, u.name, u.avatar_url, u.created_at, m.role, m.created_at AS joined_at
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.org_id = ? AND `+login+` > ?
		ORDER BY `+login+` LIMIT ?`, orgID, after, MembersPageSize+1).Scan(&rows).Error
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > MembersPageSize {
		rows = rows[:MembersPageSize]
		next = pagetoken.Encode(pagetoken.Token{Kind: "members", After: rows[len(rows)-1].Login})
	}
	return rows, next, nil
}
