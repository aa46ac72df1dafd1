package packs

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/accounts"
	"github.com/policyresults/policyresults/repository/store"
	"gorm.io/gorm"
)

// ErrUploadDenied is returned when a presigned upload credential does not
// authorize the upload it is used for.
var ErrUploadDenied = errors.New("upload denied")

// UploadDeniedError carries the reason a presigned upload was refused; it
// matches ErrUploadDenied.
type UploadDeniedError struct{ Message string }

func (e *UploadDeniedError) Error() string { return e.Message }

// Is makes errors.Is(err, ErrUploadDenied) true.
func (e *UploadDeniedError) Is(target error) bool { return target == ErrUploadDenied }

// errCredentialMismatch answers every credential that was not issued for
// the version the upload names, whatever else is wrong, so that a refusal
// tells nothing about other organisations, packs or versions.
var errCredentialMismatch = &UploadDeniedError{Message: "Forbidden: the upload URL's credential is not valid for this policy pack version"}

// newUploadCredential returns a fresh presigned upload credential: "upl-"
// and 64 hexadecimal characters (32 random bytes). The prefix differs from
// an API token's "pul-": it is never accepted as one.
func newUploadCredential() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "upl-" + hex.EncodeToString(b)
}

// checkUploadCredential reports whether credential authorizes replacing v's
// archive at now: it must be the one issued for v, not expired, and v not
// yet published.
func checkUploadCredential(pack string, v *model.PolicyPackVersion, credential string, now time.Time) error {
	if v.UploadCredentialHash == nil || v.UploadExpiresAt == nil ||
		subtle.ConstantTimeCompare([]byte(*v.UploadCredentialHash), []byte(accounts.HashToken(credential))) != 1 {
		return errCredentialMismatch
	}
	if v.Published {
		return &UploadDeniedError{Message: fmt.Sprintf("Forbidden: policy pack %s version %d is already published; its upload URL is no longer valid", pack, v.Version)}
	}
	if !now.Before(*v.UploadExpiresAt) {
		return &UploadDeniedError{Message: fmt.Sprintf("Forbidden: the upload URL expired at %s; create the version again for a new one",
			v.UploadExpiresAt.UTC().Format(time.RFC3339))}
	}
	return nil
}

// AuthorizeArchiveUpload checks a presigned upload credential against the
// pack version an upload URL names (organisation by name, pack, version
// number) before its body is read, and returns the organisation's id. Every
// refusal is an UploadDeniedError; one for a credential not issued for that
// version (an unknown organisation, pack or version included) says only
// that.
func (s *Store) AuthorizeArchiveUpload(ctx context.Context, orgName, pack string, version int, credential string, now time.Time) (int64, error) {
	if version < 1 {
		return 0, errCredentialMismatch
	}
	db := s.db.WithContext(ctx)
	var org model.Organization
	if err := db.Where("name = ?", orgName).Take(&org).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return 0, errCredentialMismatch
		}
		return 0, err
	}
	_, v, err := packVersion(db, org.ID, pack, version)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return 0, errCredentialMismatch
	case err != nil:
		return 0, err
	}
	if err := checkUploadCredential(pack, v, credential, now); err != nil {
		return 0, err
	}
	return org.ID, nil
}

// StorePresignedPolicyPackArchive is StorePolicyPackArchive for an upload
// authorized by a presigned credential rather than a token: the credential
// is checked again in the transaction that stores the archive, so a version
// completed or created again meanwhile refuses it.
func (s *Store) StorePresignedPolicyPackArchive(ctx context.Context, orgID int64, name string, version int, credential string, now time.Time, data []byte) error {
	err := s.storeArchive(ctx, orgID, name, version, data, func(v *model.PolicyPackVersion) error {
		return checkUploadCredential(name, v, credential, now)
	})
	if errors.Is(err, store.ErrNotFound) {
		// The version was deleted since AuthorizeArchiveUpload.
		return errCredentialMismatch
	}
	return err
}
