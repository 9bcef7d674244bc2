package clerksync

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/organization"
	"github.com/clerk/clerk-sdk-go/v2/organizationmembership"
	"github.com/clerk/clerk-sdk-go/v2/user"
	"golang.org/x/time/rate"
)

// Backend says where Reconcile reads Clerk's state: the Backend API (or the
// emulator's copy of it) and how fast it may ask.
type Backend struct {
	// URL is the Backend API base including /v1, e.g. https://api.clerk.com/v1.
	URL string
	// SecretKey is the instance's sk_… key.
	SecretKey string
	// HTTPClient is optional; its Transport is wrapped with the rate limit.
	HTTPClient *http.Client
	// RequestsPer10s caps the request rate. The default, 50, is half of
	// Clerk's development-instance limit (100 per 10 s; production allows
	// 1000), leaving room for the app's own Backend API calls.
	RequestsPer10s int
	// PageSize is the list page size (1–500, default 100).
	PageSize int64
}

// limitedTransport spaces requests out to the configured rate and, should
// Clerk still answer 429, waits for Retry-After and tries again (a few times).
type limitedTransport struct {
	base    http.RoundTripper
	limiter *rate.Limiter
}

func (t *limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		if err := t.limiter.Wait(req.Context()); err != nil {
			return nil, err
		}
		resp, err := t.base.RoundTrip(req)
		// Only body-less requests are retried: Reconcile sends nothing else.
		if err != nil || resp.StatusCode != http.StatusTooManyRequests || attempt == 3 || req.Body != nil {
			return resp, err
		}
		wait := 10 * time.Second
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 && s < 60 {
			wait = time.Duration(s) * time.Second
		}
		resp.Body.Close()
		select {
		case <-req.Context().Done():
			return nil, req.Context().Err()
		case <-time.After(wait):
		}
	}
}

// clerkState is everything Reconcile reads from Clerk.
type clerkState struct {
	users       []*clerk.User
	orgs        []*clerk.Organization
	memberships []*clerk.OrganizationMembership
}

func (b Backend) clientConfig() *clerk.ClientConfig {
	hc := &http.Client{Timeout: 10 * time.Second}
	if b.HTTPClient != nil {
		c := *b.HTTPClient
		hc = &c
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	perTen := b.RequestsPer10s
	if perTen <= 0 {
		perTen = 50
	}
	// A burst of 5 keeps small reconciles quick without exceeding the rate
	// over any 10 s window.
	hc.Transport = &limitedTransport{base: base, limiter: rate.NewLimiter(rate.Limit(float64(perTen)/10), 5)}
	return &clerk.ClientConfig{BackendConfig: clerk.BackendConfig{
		HTTPClient: hc, URL: clerk.String(b.URL), Key: clerk.String(b.SecretKey),
	}}
}

// fetch pages through users, organisations and each organisation's
// memberships, oldest first so that objects created meanwhile are appended
// rather than shifting the pages.
func (b Backend) fetch(ctx context.Context) (clerkState, error) {
	var st clerkState
	cfg := b.clientConfig()
	limit := b.PageSize
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	order := clerk.String("+created_at")
	page := func(offset int64) clerk.ListParams {
		return clerk.ListParams{Limit: clerk.Int64(limit), Offset: clerk.Int64(offset)}
	}

	users := user.NewClient(cfg)
	for offset := int64(0); ; offset += limit {
		list, err := users.List(ctx, &user.ListParams{ListParams: page(offset), OrderBy: order})
		if err != nil {
			return st, fmt.Errorf("list users: %w", err)
		}
		st.users = append(st.users, list.Users...)
		if int64(len(list.Users)) < limit || offset+limit >= list.TotalCount {
			break
		}
	}
	orgs := organization.NewClient(cfg)
	for offset := int64(0); ; offset += limit {
		list, err := orgs.List(ctx, &organization.ListParams{ListParams: page(offset), OrderBy: order})
		if err != nil {
			return st, fmt.Errorf("list organizations: %w", err)
		}
		st.orgs = append(st.orgs, list.Organizations...)
		if int64(len(list.Organizations)) < limit || offset+limit >= list.TotalCount {
			break
		}
	}
	mems := organizationmembership.NewClient(cfg)
	for _, o := range st.orgs {
		for offset := int64(0); ; offset += limit {
			list, err := mems.List(ctx, &organizationmembership.ListParams{ListParams: page(offset), OrderBy: order, OrganizationID: o.ID})
			if err != nil {
				return st, fmt.Errorf("list memberships of %s: %w", o.ID, err)
			}
			for _, m := range list.OrganizationMemberships {
				if m.Organization == nil { // the list may omit it; it is this org
					m.Organization = o
				}
			}
			st.memberships = append(st.memberships, list.OrganizationMemberships...)
			if int64(len(list.OrganizationMemberships)) < limit || offset+limit >= list.TotalCount {
				break
			}
		}
	}
	return st, nil
}

// instanceResource is the part of GET /instance the app reads. clerk-sdk-go
// v2.4.2 has no client for it; the endpoint is in Clerk's Backend API
// reference and @clerk/backend's InstanceAPI.get.
type instanceResource struct {
	clerk.APIResource
	Object string `json:"object"`
	ID     string `json:"id"`
}

// InstanceID asks the Backend API which instance the secret key belongs
// to (GET /instance), e.g. to pin webhooks to it.
func (b Backend) InstanceID(ctx context.Context) (string, error) {
	var in instanceResource
	if err := clerk.NewBackend(&b.clientConfig().BackendConfig).Call(ctx, clerk.NewAPIRequest(http.MethodGet, "/instance"), &in); err != nil {
		return "", err
	}
	return in.ID, nil
}
