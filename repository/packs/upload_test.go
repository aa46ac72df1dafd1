package packs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/packs"
	"github.com/policyresults/policyresults/repository/repotest"
)

// TestPresignedUploadCredentials covers the credential of a pack version's
// presigned upload URL: issued only when asked for, stored only as its
// hash, it authorizes that version's archive (by organisation name, pack
// and number) until its expiry and until the version is published; any
// other use is an UploadDeniedError and stores nothing.
func TestPresignedUploadCredentials(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		ctx, r := context.Background(), b.Repo
		newOrg := func() *model.Organization {
			t.Helper()
			o, err := r.Accounts.CreateOrganization(ctx, repotest.UniqueName("upload"))
			if err != nil {
				t.Fatal(err)
			}
			return o
		}
		org, other := newOrg(), newOrg()
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		expires := now.Add(time.Hour)
		create := func(o *model.Organization, name, tag string, expiresAt time.Time) packs.NewPackVersion {
			t.Helper()
			v, err := r.Packs.CreatePolicyPackVersion(ctx, o.ID, packs.Input{Name: name, VersionTag: tag,
				Policies: []model.PolicyInput{{Name: "p"}}, UploadExpiresAt: expiresAt})
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		v1 := create(org, "storage", "1.0.0", expires)
		v2 := create(org, "storage", "2.0.0", expires)
		net := create(org, "network", "1.0.0", expires)
		foreign := create(other, "storage", "1.0.0", expires)
		plain := create(org, "plain", "1.0.0", time.Time{})
		if v1.UploadCredential == "" || v1.UploadCredential == v2.UploadCredential || plain.UploadCredential != "" {
			t.Fatalf("credentials %q %q %q", v1.UploadCredential, v2.UploadCredential, plain.UploadCredential)
		}
		var stored []string
		if err := r.DB().Raw("SELECT upload_credential_hash FROM policy_pack_versions WHERE org_id = ? AND upload_credential_hash IS NOT NULL", org.ID).
			Scan(&stored).Error; err != nil || len(stored) != 3 {
			t.Fatalf("stored hashes %v %v", stored, err)
		}
		for _, h := range stored {
			if h == v1.UploadCredential || h == v2.UploadCredential || h == net.UploadCredential {
				t.Fatal("a credential is stored in the clear")
			}
		}

		denied := func(name string, err error) {
			t.Helper()
			var ude *packs.UploadDeniedError
			if !errors.As(err, &ude) || !errors.Is(err, packs.ErrUploadDenied) {
				t.Errorf("%s: %v, want an UploadDeniedError", name, err)
			}
		}
		if id, err := r.Packs.AuthorizeArchiveUpload(ctx, org.Name, "storage", 1, v1.UploadCredential, now); err != nil || id != org.ID {
			t.Fatalf("valid credential: %d %v", id, err)
		}
		tampered := v1.UploadCredential[:len(v1.UploadCredential)-2] + "zz"
		for _, tc := range []struct {
			name, org, pack string
			version         int
			credential      string
			at              time.Time
		}{
			{"tampered", org.Name, "storage", 1, tampered, now},
			{"empty", org.Name, "storage", 1, "", now},
			{"another version", org.Name, "storage", 2, v1.UploadCredential, now},
			{"another pack", org.Name, "network", 1, v1.UploadCredential, now},
			{"another organisation", other.Name, "storage", 1, v1.UploadCredential, now},
			{"another organisation's credential", org.Name, "storage", 1, foreign.UploadCredential, now},
			{"an unknown organisation", "no-such-org", "storage", 1, v1.UploadCredential, now},
			{"an unknown version", org.Name, "storage", 7, v1.UploadCredential, now},
			{"version 0", org.Name, "storage", 0, v1.UploadCredential, now},
			{"a version issued none", org.Name, "plain", 1, v1.UploadCredential, now},
			{"at expiry", org.Name, "storage", 1, v1.UploadCredential, expires},
			{"after expiry", org.Name, "storage", 1, v1.UploadCredential, expires.Add(time.Minute)},
		} {
			_, err := r.Packs.AuthorizeArchiveUpload(ctx, tc.org, tc.pack, tc.version, tc.credential, tc.at)
			denied(tc.name, err)
		}
		denied("store with a tampered credential", r.Packs.StorePresignedPolicyPackArchive(ctx, org.ID, "storage", 1, tampered, now, []byte("x")))
		denied("store after expiry", r.Packs.StorePresignedPolicyPackArchive(ctx, org.ID, "storage", 1, v1.UploadCredential, expires, []byte("x")))
		denied("store for another organisation", r.Packs.StorePresignedPolicyPackArchive(ctx, other.ID, "storage", 1, v1.UploadCredential, now, []byte("x")))
		var archives int64
		if err := r.DB().Raw("SELECT COUNT(*) FROM policy_pack_archives WHERE org_id IN (?, ?)", org.ID, other.ID).Row().Scan(&archives); err != nil || archives != 0 {
			t.Fatalf("refused uploads stored %d archives (%v)", archives, err)
		}

		// Valid until published; a second upload replaces the first.
		for _, data := range []string{"first", "second"} {
			if err := r.Packs.StorePresignedPolicyPackArchive(ctx, org.ID, "storage", 1, v1.UploadCredential, expires.Add(-time.Second), []byte(data)); err != nil {
				t.Fatalf("store %s: %v", data, err)
			}
		}
		if err := r.Packs.CompletePolicyPackPublish(ctx, org.ID, "storage", 1); err != nil {
			t.Fatal(err)
		}
		_, err := r.Packs.AuthorizeArchiveUpload(ctx, org.Name, "storage", 1, v1.UploadCredential, now)
		denied("after publish", err)
		denied("store after publish", r.Packs.StorePresignedPolicyPackArchive(ctx, org.ID, "storage", 1, v1.UploadCredential, now, []byte("third")))
		d, err := r.Packs.PolicyPackVersion(ctx, org.ID, "storage", "1")
		if err != nil || d.Version.ArchiveSize != int64(len("second")) {
			t.Fatalf("published archive: %+v %v", d, err)
		}

		// Creating an unpublished version again issues a new credential and
		// voids the old one.
		again := create(org, "storage", "2.0.0", expires)
		if again.Version != 2 || again.UploadCredential == v2.UploadCredential {
			t.Fatalf("re-created version %+v", again)
		}
		_, err = r.Packs.AuthorizeArchiveUpload(ctx, org.Name, "storage", 2, v2.UploadCredential, now)
		denied("the credential of a version created again", err)
		if _, err := r.Packs.AuthorizeArchiveUpload(ctx, org.Name, "storage", 2, again.UploadCredential, now); err != nil {
			t.Fatalf("the new credential: %v", err)
		}
	})
}
