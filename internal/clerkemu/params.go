package clerkemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The Backend API is strict about what it is asked: a query parameter or
// body field the emulator does not apply is refused with the parameter's
// name (unsupportedParam), never dropped. Each handler declares what it
// understands; everything else is an error.

// decodeBody reads a JSON body into v, a struct whose json tags are every
// field the endpoint supports. An empty body is no fields. Clerk's SDKs send
// JSON; a field that is not in v is refused by name.
func decodeBody(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return invalid("request_body_invalid", "could not read the request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return unsupportedParam(name)
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return invalidParam("form_param_format_invalid", typeErr.Field,
			fmt.Sprintf("%s must be a %s, not a JSON %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value))
	default:
		return invalid("request_body_invalid", "the request body is not a valid JSON object: "+err.Error())
	}
}

// jsonKind names a Go kind the way an API user thinks of it.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "list"
	case "map", "struct":
		return "object"
	case "ptr", "interface":
		return "value"
	}
	return "number"
}

// checkQuery refuses any query parameter of r that is not in allowed.
func checkQuery(r *http.Request, allowed ...string) (url.Values, error) {
	q := r.URL.Query()
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names) // report the same parameter every time
	for _, name := range names {
		if !slices.Contains(allowed, name) {
			return nil, unsupportedParam(name)
		}
	}
	return q, nil
}

// page is Clerk's limit/offset pagination: limit 1..500, default 10.
type page struct{ limit, offset int }

// pageFromQuery reads limit and offset; the caller has allowed them in
// checkQuery.
func pageFromQuery(q url.Values) (page, error) {
	p := page{limit: 10}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			return p, invalidParam("form_param_value_invalid", "limit", "limit must be between 1 and 500")
		}
		p.limit = n
	}
	if s := q.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return p, invalidParam("form_param_value_invalid", "offset", "offset must be 0 or more")
		}
		p.offset = n
	}
	return p, nil
}

// listQuery checks the query of a paginated list endpoint: limit and offset
// plus the endpoint's own parameters.
func listQuery(r *http.Request, allowed ...string) (url.Values, page, error) {
	q, err := checkQuery(r, append(allowed, "limit", "offset")...)
	if err != nil {
		return nil, page{}, err
	}
	p, err := pageFromQuery(q)
	return q, p, err
}

// pageOf is listQuery for a list with no parameters of its own (the
// machine endpoints use it).
func pageOf(r *http.Request) (page, error) {
	_, p, err := listQuery(r)
	return p, err
}

// decode is decodeBody under the name the machine endpoints use.
func decode(r *http.Request, v any) error { return decodeBody(r, v) }

// orderBy turns Clerk's order_by (created_at, -created_at, +name…) into SQL
// over an allow-list of columns; def is the SQL for Clerk's default order.
// A field Clerk or the emulator cannot sort by is refused, not ignored.
// Ties are broken by id so that pages never overlap.
func orderBy(q url.Values, allowed map[string]string, idCol, def string) (string, error) {
	v := q.Get("order_by")
	if v == "" {
		return def, nil
	}
	dir, field := "ASC", v
	switch {
	case strings.HasPrefix(v, "-"):
		dir, field = "DESC", v[1:]
	case strings.HasPrefix(v, "+"), strings.HasPrefix(v, " "):
		// A literal "+" in a hand-written query string arrives as a
		// space; Clerk's SDKs encode it as %2B.
		field = v[1:]
	}
	col, ok := allowed[field]
	if !ok {
		names := make([]string, 0, len(allowed))
		for k := range allowed {
			names = append(names, k)
		}
		slices.Sort(names)
		return "", unsupportedValue("order_by", fmt.Sprintf("order_by %q is not supported; use one of %s, with an optional + or - prefix.",
			v, strings.Join(names, ", ")))
	}
	return col + " " + dir + ", " + idCol + " " + dir, nil
}

// boolParam reads a true/false query parameter.
func boolParam(q url.Values, name string) (*bool, error) {
	s := q.Get(name)
	if s == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return nil, invalidParam("form_param_format_invalid", name, name+" must be true or false")
	}
	return &b, nil
}

// int64Param reads a Unix-millisecond (or other integer) query parameter.
func int64Param(q url.Values, name string) (*int64, error) {
	s := q.Get(name)
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, invalidParam("form_param_format_invalid", name, name+" must be an integer")
	}
	return &n, nil
}

// where builds a WHERE clause with numbered arguments.
type where struct {
	conds []string
	args  []any
}

// add appends a condition; each %s in format becomes the placeholder of the
// next value.
func (w *where) add(format string, vals ...any) {
	ph := make([]any, len(vals))
	for i, v := range vals {
		w.args = append(w.args, v)
		ph[i] = "$" + strconv.Itoa(len(w.args))
	}
	w.conds = append(w.conds, fmt.Sprintf(format, ph...))
}

// next is the placeholder the next argument will get.
func (w *where) next() string { return "$" + strconv.Itoa(len(w.args)+1) }

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// includeExclude splits Clerk's +id / -id list filters: ids without a sign,
// or with +, are included; ids with - are excluded.
func includeExclude(vals []string) (include, exclude []string) {
	for _, v := range vals {
		switch {
		case strings.HasPrefix(v, "-"):
			exclude = append(exclude, v[1:])
		case strings.HasPrefix(v, "+"), strings.HasPrefix(v, " "):
			include = append(include, v[1:])
		case v != "":
			include = append(include, v)
		}
	}
	return include, exclude
}

// likePattern escapes a user's search text for ILIKE '%…%'.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// list is Clerk's paginated envelope.
type list[T any] struct {
	Data       []T   `json:"data"`
	TotalCount int64 `json:"total_count"`
}

// fetchPage counts the rows of from (a FROM clause, filtered by wh) and
// loads one page of them, cols in order; the count is Clerk's total_count.
func fetchPage[T any](ctx context.Context, q querier, cols, from string, wh *where, order string, pg page) ([]*T, int64, error) {
	var total int64
	if err := q.QueryRow(ctx, "SELECT count(*) FROM "+from+wh.sql(), wh.args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := many[T](ctx, q, "SELECT "+cols+" FROM "+from+wh.sql()+" ORDER BY "+order+
		" LIMIT "+wh.next()+" OFFSET $"+strconv.Itoa(len(wh.args)+2), append(wh.args, pg.limit, pg.offset)...)
	return rows, total, err
}

// writeList answers a list endpoint that has Clerk's paginated switch:
// {data,total_count} with paginated=true (what Clerk's SDKs send), else the
// bare array of Clerk's older responses.
func writeList[T any](w http.ResponseWriter, q url.Values, data []T, total int64) error {
	paginated, err := boolParam(q, "paginated")
	if err != nil {
		return err
	}
	if paginated != nil && *paginated {
		writeJSON(w, http.StatusOK, list[T]{Data: data, TotalCount: total})
	} else {
		writeJSON(w, http.StatusOK, data)
	}
	return nil
}
