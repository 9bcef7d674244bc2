package appsession_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/saasstarter/saas/internal/appsession"
)

var (
	oldKey = []byte("old-key-0123456789abcdef0123456789abcdef")
	newKey = []byte("new-key-0123456789abcdef0123456789abcdef")
)

// roundTrip runs fn as a handler on a request carrying cookies and returns
// the response's cookies.
func roundTrip(t *testing.T, cookies []*http.Cookie, fn func(c echo.Context)) []*http.Cookie {
	t.Helper()
	e := echo.New()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	fn(e.NewContext(req, rec))
	return rec.Result().Cookies()
}

func TestCookieFlags(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		store, err := appsession.NewStore([][]byte{newKey}, secure)
		if err != nil {
			t.Fatal(err)
		}
		cookies := roundTrip(t, nil, func(c echo.Context) {
			if err := store.AddFlash(c, appsession.FlashInfo, "hello"); err != nil {
				t.Fatal(err)
			}
		})
		if len(cookies) != 1 {
			t.Fatalf("got %d cookies", len(cookies))
		}
		ck := cookies[0]
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" || ck.Secure != secure {
			t.Errorf("secure=%v: cookie %+v", secure, ck)
		}
		if ck.MaxAge != int(appsession.MaxAge.Seconds()) {
			t.Errorf("MaxAge = %d", ck.MaxAge)
		}
		if secure && !strings.HasPrefix(ck.Name, "__Host-") {
			t.Errorf("secure cookie name %q lacks __Host- prefix", ck.Name)
		}
	}
}

func TestFlashIsShownOnce(t *testing.T) {
	t.Parallel()
	store, _ := appsession.NewStore([][]byte{newKey}, false)
	cookies := roundTrip(t, nil, func(c echo.Context) {
		_ = store.AddFlash(c, appsession.FlashSuccess, "<script>saved</script>")
	})
	var got []appsession.Flash
	next := roundTrip(t, cookies, func(c echo.Context) { got = store.Flashes(c) })
	if len(got) != 1 || got[0].Kind != appsession.FlashSuccess || got[0].Message != "<script>saved</script>" {
		t.Fatalf("flashes = %+v", got)
	}
	roundTrip(t, next, func(c echo.Context) { got = store.Flashes(c) })
	if len(got) != 0 {
		t.Fatalf("flash shown twice: %+v", got)
	}
}

// TestKeyRotation is K-03: cookies made with the old key still read while it
// is listed second, and are refused (as an empty session, not an error) once
// it is dropped.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	old, _ := appsession.NewStore([][]byte{oldKey}, false)
	cookies := roundTrip(t, nil, func(c echo.Context) { _ = old.AddFlash(c, appsession.FlashInfo, "from old key") })

	rotated, _ := appsession.NewStore([][]byte{newKey, oldKey}, false)
	var got []appsession.Flash
	roundTrip(t, cookies, func(c echo.Context) { got = rotated.Flashes(c) })
	if len(got) != 1 {
		t.Fatalf("rotated store lost the old cookie: %+v", got)
	}

	dropped, _ := appsession.NewStore([][]byte{newKey}, false)
	roundTrip(t, cookies, func(c echo.Context) {
		if !dropped.Get(c.Request()).IsNew {
			t.Error("cookie signed with a dropped key was accepted")
		}
	})
}

// TestTamperedCookieGivesNewSession is K-04.
func TestTamperedCookieGivesNewSession(t *testing.T) {
	t.Parallel()
	store, _ := appsession.NewStore([][]byte{newKey}, false)
	cookies := roundTrip(t, nil, func(c echo.Context) { _ = store.AddFlash(c, appsession.FlashInfo, "x") })
	v := []byte(cookies[0].Value)
	v[len(v)/2] ^= 1
	cookies[0].Value = string(v)
	roundTrip(t, cookies, func(c echo.Context) {
		if !store.Get(c.Request()).IsNew {
			t.Error("tampered cookie was accepted")
		}
	})
}
