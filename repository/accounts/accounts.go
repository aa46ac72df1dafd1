package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"regexp"
	"time"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/store"
	"gorm.io/gorm"
)

var (
	orgNamePattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)
	loginPattern     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)
	tokenPattern     = regexp.MustCompile(`^pul-[0-9a-f]{40}$`)
	emailPattern     = regexp.MustCompile(`^[^@\s]+@[^@\s]+$`)
	errTokenRejected = errors.New("token rejected")
)

// ErrUnauthenticated is returned for a missing, unknown, revoked or expired
// token.
var ErrUnauthenticated = errTokenRejected

// ParseRole checks a role name.
func ParseRole(s string) (model.Role, error) {
	switch r := model.Role(s); r {
	case model.RoleAdmin, model.RoleMember, model.RoleViewer:
		return r, nil
	}
	return "", store.Invalid("role", "%q is not a role; allowed: admin, member, viewer", s)
}

// CreateOrganization creates an organisation with its two default policy
// groups.
func (s *Store) CreateOrganization(ctx context.Context, name string) (*model.Organization, error) {
	if !orgNamePattern.MatchString(name) {
		return nil, store.Invalid("name", "%q is not a valid organisation name (letters, digits, '-', '_', '.'; at most 100)", name)
	}
	org := &model.Organization{Name: name}
	err := s.store.Transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(org).Error; err != nil {
			return store.Translate(err, "organisation "+name+" already exists")
		}
		for _, g := range []model.PolicyGroup{
			{OrgID: org.ID, Name: model.DefaultStacksGroup, EntityType: model.GroupStacks, Mode: model.ModePreventative, IsOrgDefault: true},
			{OrgID: org.ID, Name: model.DefaultAccountsGroup, EntityType: model.GroupAccounts, Mode: model.ModeAudit, IsOrgDefault: true},
		} {
			if err := tx.Create(&g).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return org, nil
}

// OrganizationByName finds an organisation.
func (s *Store) OrganizationByName(ctx context.Context, name string) (*model.Organization, error) {
	var org model.Organization
	if err := s.db.WithContext(ctx).Where("name = ?", name).First(&org).Error; err != nil {
		return nil, store.Translate(err, "")
	}
	return &org, nil
}

// CountOrganizations counts the organisations (an empty database has none).
func (s *Store) CountOrganizations(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&model.Organization{}).Count(&n).Error
	return n, err
}

// CreateUser creates a user.
func (s *Store) CreateUser(ctx context.Context, u *model.User) error {
	if !loginPattern.MatchString(u.Login) {
		return store.Invalid("login", "%q is not a valid login", u.Login)
	}
	if !emailPattern.MatchString(u.Email) {
		return store.Invalid("email", "%q is not an email address", u.Email)
	}
	if u.Name == "" {
		u.Name = u.Login
	}
	return store.Translate(s.db.WithContext(ctx).Create(u).Error, "a user with login "+u.Login+" or email "+u.Email+" already exists")
}

// UserByLogin finds a user by login.
func (s *Store) UserByLogin(ctx context.Context, login string) (*model.User, error) {
	var u model.User
	if err := s.db.WithContext(ctx).Where("login = ?", login).First(&u).Error; err != nil {
		return nil, store.Translate(err, "")
	}
	return &u, nil
}

// AddMember gives a user a role in an organisation (or changes it).
func (s *Store) AddMember(ctx context.Context, orgID, userID int64, role model.Role) error {
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	return s.store.Transaction(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&model.Membership{}).Where("org_id = ? AND user_id = ?", orgID, userID).Update("role", role)
		if res.Error != nil || res.RowsAffected > 0 {
			return res.Error
		}
		return tx.Create(&model.Membership{OrgID: orgID, UserID: userID, Role: role}).Error
	})
}

// MemberByLoginOrEmail finds a member of an organisation by login or email
// (case-insensitive).
func (s *Store) MemberByLoginOrEmail(ctx context.Context, orgID int64, who string) (*model.User, error) {
	var u model.User
	err := s.db.WithContext(ctx).
		Joins("JOIN memberships m ON m.user_id = users.id AND m.org_id = ?", orgID).
		Where("lower(users.login) = lower(?) OR lower(users.email) = lower(?)", who, who).
		First(&u).Error
	if err != nil {
		return nil, store.Translate(err, "")
	}
	return &u, nil
}

// UserOrganization is an organisation a user belongs to, with the user's
// role in it.
type UserOrganization struct {
	model.Organization
	Role model.Role
}

// OrganizationsOfUser lists the organisations a user belongs to, by name,
// with the user's role in each.
func (s *Store) OrganizationsOfUser(ctx context.Context, userID int64) ([]UserOrganization, error) {
	var orgs []UserOrganization
	err := s.db.WithContext(ctx).Model(&model.Organization{}).
		Select("organizations.*, m.role AS role").
		Joins("JOIN memberships m ON m.org_id = organizations.id AND m.user_id = ?", userID).
		Order("organizations.name").Scan(&orgs).Error
	return orgs, err
}

// NewTokenSecret returns a fresh token in Pulumi's format: "pul-" and 40
// hexadecimal characters.
func NewTokenSecret() string {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "pul-" + hex.EncodeToString(b)
}

// HashToken is the SHA-256 of a token, as stored.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// TokenSpec describes a token to create: a user's personal token (UserID) or
// an organisation token (OrgID and Role).
type TokenSpec struct {
	UserID    *int64
	OrgID     *int64
	Name      string
	Role      model.Role
	ExpiresAt *time.Time
}

// CreateToken stores a new token and returns its secret, which is shown once
// and never stored.
func (s *Store) CreateToken(ctx context.Context, spec TokenSpec) (string, *model.Token, error) {
	if (spec.UserID == nil) == (spec.OrgID == nil) {
		return "", nil, store.Invalid("token", "a token belongs either to a user or to an organisation")
	}
	if spec.OrgID != nil {
		if _, err := ParseRole(string(spec.Role)); err != nil {
			return "", nil, err
		}
		if spec.Name == "" {
			return "", nil, store.Invalid("name", "an organisation token needs a name")
		}
	} else {
		spec.Role = ""
	}
	secret := NewTokenSecret()
	t := &model.Token{OrgID: spec.OrgID, UserID: spec.UserID, Name: spec.Name, Role: spec.Role, Hash: HashToken(secret), ExpiresAt: spec.ExpiresAt}
	if err := s.db.WithContext(ctx).Create(t).Error; err != nil {
		return "", nil, store.Translate(err, "token already exists")
	}
	return secret, t, nil
}

// Caller is an authenticated token: a user's personal token or an
// organisation token.
type Caller struct {
	TokenID   int64
	TokenName string
	// User is the token's user; nil for an organisation token.
	User *model.User
	// OrgID and Role are set for an organisation token.
	OrgID *int64
	Role  model.Role
}

// Actor names the caller in issue history.
func (c *Caller) Actor() (name, actorType string) {
	if c.User != nil {
		return c.User.Login, "user"
	}
	return c.TokenName, "token"
}

// Authenticate checks a token secret and returns its caller. Unknown,
// malformed, revoked and expired tokens are ErrUnauthenticated.
func (s *Store) Authenticate(ctx context.Context, secret string) (*Caller, error) {
	c, _, err := s.authenticate(ctx, secret, "")
	return c, err
}

// AuthenticateIn is Authenticate followed by resolving the organisation
// named in a request path for the caller, in one statement (every request
// to an organisation runs it). A caller who is not a member gets
// ErrNotFound, as for an organisation that does not exist, so names of
// other organisations do not leak; a bad token is ErrUnauthenticated
// whatever the organisation.
func (s *Store) AuthenticateIn(ctx context.Context, secret, orgName string) (*Access, error) {
	_, a, err := s.authenticate(ctx, secret, orgName)
	if err == nil && a == nil {
		err = store.ErrNotFound
	}
	return a, err
}

// authenticate reads the token, its user and, for orgName, the
// organisation and the user's membership; the access is nil when the
// caller may not use that organisation.
func (s *Store) authenticate(ctx context.Context, secret, orgName string) (*Caller, *Access, error) {
	if !tokenPattern.MatchString(secret) {
		return nil, nil, ErrUnauthenticated
	}
	hash := HashToken(secret)
	var row struct {
		model.Token
		UserLogin          *string
		UserEmail          *string
		UserName           *string
		UserAvatarURL      *string
		UserCreatedAt      *time.Time
		AccessOrgID        *int64
		AccessOrgName      *string
		AccessOrgCreatedAt *time.Time
		MemberRole         *model.Role
	}
	res := s.db.WithContext(ctx).Raw(`SELECT t.*, u.login AS user_login, u.email AS user_email, u.name AS user_name,
		u.avatar_url AS user_avatar_url, u.created_at AS user_created_at,
		o.id AS access_org_id, o.name AS access_org_name, o.created_at AS access_org_created_at, m.role AS member_role
		FROM tokens t LEFT JOIN users u ON u.id = t.user_id
		LEFT JOIN organizations o ON o.name = ?
		LEFT JOIN memberships m ON m.org_id = o.id AND m.user_id = t.user_id
		WHERE t.hash = ?`, orgName, hash).Scan(&row)
	if res.Error != nil {
		return nil, nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, nil, ErrUnauthenticated
	}
	t := row.Token
	// The lookup is by hash; compare again in constant time so timing tells
	// nothing about stored hashes.
	if subtle.ConstantTimeCompare([]byte(t.Hash), []byte(hash)) != 1 {
		return nil, nil, ErrUnauthenticated
	}
	now := time.Now().UTC()
	if t.RevokedAt != nil || (t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)) {
		return nil, nil, ErrUnauthenticated
	}
	c := &Caller{TokenID: t.ID, TokenName: t.Name, OrgID: t.OrgID, Role: t.Role}
	if t.UserID != nil {
		if row.UserLogin == nil {
			return nil, nil, ErrUnauthenticated
		}
		c.User = &model.User{ID: *t.UserID, Login: *row.UserLogin, Email: deref(row.UserEmail), Name: deref(row.UserName),
			AvatarURL: deref(row.UserAvatarURL)}
		if row.UserCreatedAt != nil {
			c.User.CreatedAt = *row.UserCreatedAt
		}
	}
	// Record use at most once a minute per token to keep reads read-only.
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute {
		if err := s.db.WithContext(ctx).Model(&model.Token{}).Where("id = ?", t.ID).Update("last_used_at", now).Error; err != nil {
			return nil, nil, err
		}
	}
	var access *Access
	if orgName != "" && row.AccessOrgID != nil {
		org := model.Organization{ID: *row.AccessOrgID, Name: deref(row.AccessOrgName)}
		if row.AccessOrgCreatedAt != nil {
			org.CreatedAt = *row.AccessOrgCreatedAt
		}
		switch {
		case c.OrgID != nil && *c.OrgID == org.ID:
			access = &Access{Org: org, Role: c.Role, Caller: c}
		case c.OrgID == nil && row.MemberRole != nil:
			access = &Access{Org: org, Role: *row.MemberRole, Caller: c}
		}
	}
	return c, access, nil
}

// Access is what a caller may do in one organisation.
type Access struct {
	Org    model.Organization
	Role   model.Role
	Caller *Caller
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TokenInfo describes a stored token without its secret.
type TokenInfo struct {
	model.Token
	OrgName   string
	UserLogin string
}

// ListTokens lists the tokens of an organisation: its organisation tokens
// and the personal tokens of its members.
func (s *Store) ListTokens(ctx context.Context, orgID int64) ([]TokenInfo, error) {
	var out []TokenInfo
	err := s.db.WithContext(ctx).Table("tokens t").
		Select("t.*, o.name AS org_name, u.login AS user_login").
		Joins("LEFT JOIN organizations o ON o.id = t.org_id").
		Joins("LEFT JOIN users u ON u.id = t.user_id").
		Where("t.org_id = ? OR t.user_id IN (SELECT user_id FROM memberships WHERE org_id = ?)", orgID, orgID).
		Order("t.id").Scan(&out).Error
	return out, err
}

// RevokeToken revokes a token of an organisation (or of one of its members).
func (s *Store) RevokeToken(ctx context.Context, orgID, tokenID int64) error {
	res := s.db.WithContext(ctx).Model(&model.Token{}).
		Where("id = ? AND revoked_at IS NULL AND (org_id = ? OR user_id IN (SELECT user_id FROM memberships WHERE org_id = ?))", tokenID, orgID, orgID).
		Update("revoked_at", time.Now().UTC())
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return store.ErrNotFound
	}
	return nil
}

// OrganizationByID finds an organisation by id.
func (s *Store) OrganizationByID(ctx context.Context, id int64) (*model.Organization, error) {
	var org model.Organization
	if err := s.db.WithContext(ctx).First(&org, id).Error; err != nil {
		return nil, store.Translate(err, "")
	}
	return &org, nil
}

// Accesses lists what the caller may do in each organisation it can use, by
// name: a user's memberships, or an organisation token's organisation. With
// orgName, only that organisation, and none when the caller may not use it.
func (s *Store) Accesses(ctx context.Context, c *Caller, orgName string) ([]Access, error) {
	var rows []struct {
		ID        int64
		Name      string
		CreatedAt time.Time
		Role      model.Role
	}
	q := s.db.WithContext(ctx).Table("organizations o")
	switch {
	case c.OrgID != nil:
		q = q.Select("o.id, o.name, o.created_at, CAST(? AS text) AS role", c.Role).Where("o.id = ?", *c.OrgID)
	case c.User != nil:
		q = q.Select("o.id, o.name, o.created_at, m.role").
			Joins("JOIN memberships m ON m.org_id = o.id AND m.user_id = ?", c.User.ID)
	default:
		return nil, nil
	}
	if orgName != "" {
		q = q.Where("o.name = ?", orgName)
	}
	if err := q.Order(s.dialect.TextOrder("o.name")).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]Access, len(rows))
	for i, row := range rows {
		out[i] = Access{Org: model.Organization{ID: row.ID, Name: row.Name, CreatedAt: row.CreatedAt}, Role: row.Role, Caller: c}
	}
	return out, nil
}
