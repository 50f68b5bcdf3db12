#!/usr/bin/env bash
# A guided tour of the ioenv Environments API, as a new user would take it, against a RUNNING server.
#
# It creates its own account with the operator command, then drives every operation of the
# reference with curl, checking exact status codes and the important parts of bodies and headers.
# It exits 1 at the first unexpected answer, printing what it expected and what it got.
#
# Usage (from anywhere; the script works from the repository root):
#   node bin/ioenv.js serve &                                   # in another terminal
#   bash examples/walkthrough.sh
#
# Configuration:
#   IOENV_URL           the running server           (default http://127.0.0.1:3000)
#   IOENV_DATABASE_URL  the database that server uses (default sqlite:./data/ioenv.db); passed to
#                       the `ioenv` admin commands so they act on the server's data
#
# Needs bash, curl and node (for JSON; no jq required). Safe to run repeatedly on the same database:
# every run makes a fresh account and only looks at that account's environments.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BASE_URL="${IOENV_URL:-http://127.0.0.1:3000}"
BASE_URL="${BASE_URL%/}"
DB="${IOENV_DATABASE_URL:-sqlite:./data/ioenv.db}"
API="$BASE_URL/v1"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

CHECKS=0
STEP=""
LAST_REQUEST=""
STATUS=""
TOKEN=""

# ---------------------------------------------------------------------------------------------
# helpers

step() {
  STEP="$1"
  printf '\n==> %s\n' "$1"
}

note() { printf '    %s\n' "$*"; }

fail() {
  {
    printf '\nFAILED in step: %s\n' "$STEP"
    printf '  check:    %s\n' "$1"
    printf '  expected: %s\n' "$2"
    printf '  got:      %s\n' "$3"
    if [[ -n "$LAST_REQUEST" ]]; then
      printf '  request:  %s\n' "$LAST_REQUEST"
      printf '  response status: %s\n' "$STATUS"
      if [[ -s "$TMP/headers" ]]; then
        printf '  response headers:\n'
        tr -d '\r' <"$TMP/headers" | sed 's/^/    /'
      fi
      if [[ -s "$TMP/body" ]]; then
        printf '  response body:\n'
        head -c 4000 "$TMP/body" | sed 's/^/    /'
        printf '\n'
      fi
    fi
  } >&2
  exit 1
}

pass() {
  CHECKS=$((CHECKS + 1))
  printf '    ok  %s\n' "$1"
}

# expect_eq DESCRIPTION EXPECTED ACTUAL
expect_eq() {
  if [[ "$3" == "$2" ]]; then pass "$1"; else fail "$1" "$2" "$3"; fi
}

# expect_match DESCRIPTION REGEX ACTUAL
expect_match() {
  if [[ "$3" =~ $2 ]]; then pass "$1"; else fail "$1" "a value matching /$2/" "$3"; fi
}

# request METHOD URL [curl args...]: sends one request; sets STATUS, $TMP/body and $TMP/headers.
request() {
  local method="$1" url="$2"
  shift 2
  local -a args=(-sS --max-time 15 -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}')
  if [[ "$method" == HEAD ]]; then args+=(--head); else args+=(-X "$method"); fi
  : >"$TMP/body"
  : >"$TMP/headers"
  LAST_REQUEST="$method $url"
  if ! STATUS="$(curl "${args[@]}" "$@" "$url")"; then
    fail "the server answers" "an HTTP response from $url" "curl failed (is the server running at $BASE_URL?)"
  fi
  # With --head curl writes the headers to -o as well; a HEAD response has no body to keep.
  if [[ "$method" == HEAD ]]; then : >"$TMP/body"; fi
}

# api METHOD PATH [JSON-BODY]: an authenticated request to $API/PATH (PATH may also be a full URL).
api() {
  local method="$1" path="$2" url
  if [[ "$path" == http://* || "$path" == https://* ]]; then url="$path"; else url="$API$path"; fi
  if [[ $# -ge 3 ]]; then
    request "$method" "$url" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data-binary "$3"
    LAST_REQUEST="$LAST_REQUEST  body: $3"
  else
    request "$method" "$url" -H "Authorization: Bearer $TOKEN"
  fi
}

expect_status() {
  if [[ "$STATUS" == "$1" ]]; then pass "$LAST_REQUEST -> $1"; else fail "HTTP status of $LAST_REQUEST" "$1" "$STATUS"; fi
}

# json EXPR [FILE]: evaluates a JavaScript expression over the parsed JSON `b` (default: the last
# response body). Strings print raw, everything else as compact JSON, undefined as "<absent>".
json() {
  local file="${2:-$TMP/body}"
  node -e '
    const fs = require("fs")
    let b
    try { b = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) } catch (e) { process.stdout.write("<not JSON: " + e.message + ">"); process.exit(0) }
    let v
    try { v = (0, eval)("(b) => (" + process.argv[1] + ")")(b) } catch (e) { v = "<error: " + e.message + ">" }
    process.stdout.write(v === undefined ? "<absent>" : typeof v === "string" ? v : JSON.stringify(v))
  ' "$1" "$file"
}

# expect_json DESCRIPTION EXPR EXPECTED: checks json EXPR on the last response body.
expect_json() {
  expect_eq "$1" "$3" "$(json "$2")"
}

# header NAME: the value of a response header of the last response (case-insensitive), or "".
header() {
  tr -d '\r' <"$TMP/headers" | awk -v want="$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" '
    { i = index($0, ":"); if (i == 0) next
      name = tolower(substr($0, 1, i - 1))
      if (name == want) { v = substr($0, i + 1); sub(/^[ \t]+/, "", v); out = v } }
    END { printf "%s", out }'
}

expect_empty_body() {
  local size
  size="$(wc -c <"$TMP/body" | tr -d ' ')"
  expect_eq "$LAST_REQUEST has no body" "0" "$size"
}

# next_link: the target of rel="next" in the last response's Link header, or "" when there is none.
next_link() {
  node -e '
    const v = process.argv[1]
    const re = /<([^>]*)>((?:\s*;\s*[^;,]+)*)/g
    let m
    while ((m = re.exec(v)) !== null) {
      if (/;\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/i.test(m[2])) { process.stdout.write(m[1]); break }
    }
  ' "$(header Link)"
}

# ioenv ARGS...: runs an operator command on the server's database; its stdout goes to $TMP/cli.
ioenv() {
  LAST_REQUEST=""
  if ! node bin/ioenv.js "$@" --database-url "$DB" >"$TMP/cli" 2>"$TMP/cli.err"; then
    fail "ioenv $*" "exit status 0" "exit status non-zero; stderr: $(cat "$TMP/cli.err")"
  fi
  pass "ioenv $1 $2 (exit 0)"
}

ISO_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'
ID_RE='^[0-9a-f]{24}$'

printf 'ioenv walkthrough against %s (database %s)\n' "$BASE_URL" "$DB"

# Make sure a server is there before making an account for it (request fails clearly if not).
STEP="0. Is the server up?"
request GET "$API/environments"
LAST_REQUEST=""

# ---------------------------------------------------------------------------------------------
step "1. Create an account with the operator command (ioenv accounts create)"

ioenv accounts create --name Walkthrough --licenses 3
ACCOUNT_JSON="$TMP/account.json"
cp "$TMP/cli" "$ACCOUNT_JSON"
TOKEN="$(json 'b.token' "$ACCOUNT_JSON")"
PROD_ID="$(json 'b.environment._id' "$ACCOUNT_JSON")"
PROD_USER="$(json 'b.environment._envUserId' "$ACCOUNT_JSON")"
expect_match "account has an _id" "$ID_RE" "$(json 'b.account._id' "$ACCOUNT_JSON")"
expect_eq "the account's first environment is Production" "Production" "$(json 'b.environment.name' "$ACCOUNT_JSON")"
expect_eq "Production is enabled" "true" "$(json 'b.environment.enabled' "$ACCOUNT_JSON")"
expect_match "Production has an _id" "$ID_RE" "$PROD_ID"
expect_match "a token secret is printed" '^[^[:space:]]{16,}$' "$TOKEN"
note "account $(json 'b.account._id' "$ACCOUNT_JSON"), Production $PROD_ID"

# A token made by an admin command reaches a running server within 5 seconds (C-5.4).
for _ in $(seq 1 40); do
  api GET /environments
  [[ "$STATUS" == 401 ]] || break
  sleep 0.25
done
if [[ "$STATUS" == 401 ]]; then
  fail "the server accepts the new token within 10 s" "not 401" \
    "401 $(cat "$TMP/body") -- is IOENV_DATABASE_URL ($DB) the database the server at $BASE_URL uses?"
fi

# ---------------------------------------------------------------------------------------------
step "2. List environments (GET /v1/environments)"

api GET /environments
expect_status 200
expect_match "Content-Type is JSON" '^application/json' "$(header Content-Type)"
expect_match "X-Request-Id is set" '.+' "$(header X-Request-Id)"
expect_json "body is an array" 'Array.isArray(b)' true
expect_json "a new account has one environment" 'b.length' 1
expect_json "Production comes first" 'b[0]._id' "$PROD_ID"
expect_json "... named Production" 'b[0].name' Production
expect_json "... enabled" 'b[0].enabled' true
expect_json "... owned by the account owner" 'b[0]._envUserId' "$PROD_USER"
expect_eq "no Link header on a single page" "" "$(header Link)"

api HEAD /environments
expect_status 200
expect_match "HEAD: same Content-Type as GET" '^application/json' "$(header Content-Type)"

# ---------------------------------------------------------------------------------------------
step "3. Create an environment (POST /v1/environments)"

api POST /environments '{"name":"dev","description":"For trying out flows before they go to Production","apim":{"groupId":"g1"}}'
expect_status 201
DEV_ID="$(json 'b._id')"
cp "$TMP/body" "$TMP/dev-created.json"
expect_match "_id is a 24-hex ObjectId" "$ID_RE" "$DEV_ID"
expect_match "Location points at the new environment" "/v1/environments/$DEV_ID\$" "$(header Location)"
expect_json "name echoed" 'b.name' dev
expect_json "description echoed" 'b.description' "For trying out flows before they go to Production"
expect_json "apim echoed" 'JSON.stringify(b.apim)' '{"groupId":"g1"}'
expect_json "enabled (a license slot is free)" 'b.enabled' true
expect_match "has its own _envUserId" "$ID_RE" "$(json 'b._envUserId')"
expect_json "... not Production's" "b._envUserId !== '$PROD_USER'" true
expect_match "createdAt is ISO-8601 UTC with ms" "$ISO_RE" "$(json 'b.createdAt')"
expect_match "lastModified is ISO-8601 UTC with ms" "$ISO_RE" "$(json 'b.lastModified')"
expect_json "unset optional fields are absent, not null" \
  "['deletedAt','_integrationId','_connectorId'].filter(k => k in b).join(',')" ""

api POST /environments '{"description":"no name"}'
expect_status 422
expect_json "missing name -> missing_required_field" 'b.errors[0].code' missing_required_field
expect_json "... on field name" 'b.errors[0].field' name

# ---------------------------------------------------------------------------------------------
step "4. Get it (GET /v1/environments/{_id})"

api GET "/environments/$DEV_ID"
expect_status 200
CREATED_CANON="$(json 'JSON.stringify(Object.keys(b).sort().map(k => [k, b[k]]))' "$TMP/dev-created.json")"
expect_json "same object as POST returned" 'JSON.stringify(Object.keys(b).sort().map(k => [k, b[k]]))' "$CREATED_CANON"

api GET /environments/000000000000000000000000
expect_status 404
expect_json "404 has an errors array" 'Array.isArray(b.errors) && b.errors.length > 0' true

# ---------------------------------------------------------------------------------------------
step "5. Replace it (PUT /v1/environments/{_id}; omitted fields are removed)"

OLD_MODIFIED="$(json 'b.lastModified' "$TMP/dev-created.json")"
OLD_CREATED="$(json 'b.createdAt' "$TMP/dev-created.json")"
OLD_USER="$(json 'b._envUserId' "$TMP/dev-created.json")"
sleep 0.01
api PUT "/environments/$DEV_ID" '{"name":"dev-renamed"}'
expect_status 200
expect_json "same _id" 'b._id' "$DEV_ID"
expect_json "renamed" 'b.name' dev-renamed
expect_json "description removed (full replace)" '"description" in b' false
expect_json "apim removed (full replace)" '"apim" in b' false
expect_json "still enabled" 'b.enabled' true
expect_json "_envUserId unchanged" 'b._envUserId' "$OLD_USER"
expect_json "createdAt unchanged" 'b.createdAt' "$OLD_CREATED"
expect_json "lastModified moved forward" "b.lastModified > '$OLD_MODIFIED'" true

api GET "/environments/$DEV_ID"
expect_status 200
expect_json "the next read sees the new name" 'b.name' dev-renamed
expect_json "... and no description" '"description" in b' false

# ---------------------------------------------------------------------------------------------
step "6. Toggle it off and on (PUT /v1/environments/{_id}/enable)"

api PUT "/environments/$DEV_ID/enable"
expect_status 204
expect_empty_body
api GET "/environments/$DEV_ID"
expect_status 200
expect_json "now disabled" 'b.enabled' false

api PUT "/environments/$DEV_ID/enable"
expect_status 204
expect_empty_body
api GET "/environments/$DEV_ID"
expect_status 200
expect_json "enabled again" 'b.enabled' true

# ---------------------------------------------------------------------------------------------
step "7. Production cannot be disabled"

api PUT "/environments/$PROD_ID/enable"
expect_status 400
expect_json "errors[0].code is production_cannot_be_disabled" 'b.errors[0].code' production_cannot_be_disabled
api GET "/environments/$PROD_ID"
expect_status 200
expect_json "Production is still enabled" 'b.enabled' true

# ---------------------------------------------------------------------------------------------
step "8. Pending invitations block disabling (ioenv invitations create / dismiss / accept)"

ioenv invitations create --environment "$DEV_ID" --email someone@example.com
INV1="$(json 'b._id' "$TMP/cli")"
expect_match "invitation has an _id" "$ID_RE" "$INV1"
expect_eq "invitation is not accepted yet" false "$(json 'b.accepted' "$TMP/cli")"

api PUT "/environments/$DEV_ID/enable"
expect_status 422
expect_json "errors[0].code is pending_invitations" 'b.errors[0].code' pending_invitations
api GET "/environments/$DEV_ID"
expect_json "still enabled" 'b.enabled' true

ioenv invitations dismiss "$INV1"
api PUT "/environments/$DEV_ID/enable"
expect_status 204
api GET "/environments/$DEV_ID"
expect_json "disabled once the invitation is dismissed" 'b.enabled' false

api PUT "/environments/$DEV_ID/enable"
expect_status 204
api GET "/environments/$DEV_ID"
expect_json "enabled again" 'b.enabled' true

ioenv invitations create --environment "$DEV_ID" --email someone-else@example.com
INV2="$(json 'b._id' "$TMP/cli")"
api PUT "/environments/$DEV_ID/enable"
expect_status 422
expect_json "a second pending invitation blocks too (pending_invitations)" 'b.errors[0].code' pending_invitations
ioenv invitations accept "$INV2"
api PUT "/environments/$DEV_ID/enable"
expect_status 204
api GET "/environments/$DEV_ID"
expect_json "disabled once the invitation is accepted" 'b.enabled' false
api PUT "/environments/$DEV_ID/enable"
expect_status 204
api GET "/environments/$DEV_ID"
expect_json "enabled again" 'b.enabled' true

# ---------------------------------------------------------------------------------------------
step "9. Licenses: this account may have 3 environments enabled at once"

# Production and dev-renamed are enabled: one slot left.
api POST /environments '{"name":"staging"}'
expect_status 201
STAGING_ID="$(json 'b._id')"
expect_json "staging takes the last license slot" 'b.enabled' true
api POST /environments '{"name":"qa"}'
expect_status 201
QA_ID="$(json 'b._id')"
expect_json "qa is created disabled (no free slot)" 'b.enabled' false
api POST /environments '{"name":"sandbox 🧪"}'
expect_status 201
SANDBOX_ID="$(json 'b._id')"
expect_json "sandbox is created disabled too" 'b.enabled' false
expect_json "the name is echoed byte-exact" 'b.name' "sandbox 🧪"

api PUT "/environments/$QA_ID/enable"
expect_status 422
expect_json "enabling beyond the licenses -> license_limit_exceeded" 'b.errors[0].code' license_limit_exceeded

# ---------------------------------------------------------------------------------------------
step "10. Pagination (GET /v1/environments?limit=2, then follow Link rel=\"next\")"

api GET /environments
expect_status 200
ALL_IDS="$(json 'b.map(e => e._id).join(" ")')"
ALL_COUNT="$(json 'b.length')"
expect_eq "the account now has 5 environments" 5 "$ALL_COUNT"
expect_eq "in creation order, Production first" "$PROD_ID $DEV_ID $STAGING_ID $QA_ID $SANDBOX_ID" "$ALL_IDS"
expect_eq "no Link header on a complete list" "" "$(header Link)"

api GET "/environments?limit=2"
expect_status 200
expect_json "first page has 2 items" 'b.length' 2
PAGED_IDS="$(json 'b.map(e => e._id).join(" ")')"
PAGES=1
NEXT="$(next_link)"
expect_match "Link rel=next is an absolute URL" '^https?://[^/]+/v1/environments\?' "$NEXT"
expect_match "... keeping limit=2" '[?&]limit=2(&|$)' "$NEXT"
while [[ -n "$NEXT" ]]; do
  note "following $NEXT"
  api GET "$NEXT"
  expect_status 200
  PAGES=$((PAGES + 1))
  COUNT="$(json 'b.length')"
  NEXT="$(next_link)"
  if [[ -n "$NEXT" ]]; then
    expect_eq "page $PAGES is full" 2 "$COUNT"
  else
    expect_match "last page has 1 or 2 items" '^[12]$' "$COUNT"
  fi
  PAGED_IDS="$PAGED_IDS $(json 'b.map(e => e._id).join(" ")')"
  [[ $PAGES -le 10 ]] || fail "pagination ends" "at most 3 pages" "more than 10 pages"
done
expect_eq "3 pages of at most 2" 3 "$PAGES"
expect_eq "the pages together are the whole list, in order" "$ALL_IDS" "$PAGED_IDS"

api GET "/environments?limit=0"
expect_status 400
expect_json "a bad limit -> invalid_query_params" 'b.errors[0].code' invalid_query_params

# ---------------------------------------------------------------------------------------------
step "11. Authentication failures"

note "with 'Authorization: Bearer nope'"
request GET "$API/environments" -H 'Authorization: Bearer nope'
expect_status 401
expect_json "bad token: exact body" 'JSON.stringify(b)' '{"message":"Bearer Authentication Failed"}'
expect_match "WWW-Authenticate: Bearer" '^Bearer' "$(header WWW-Authenticate)"

note "with no Authorization header"
request GET "$API/environments"
expect_status 401
expect_json "no Authorization header: exact body" 'JSON.stringify(b)' '{"message":"Unauthorized"}'

note "a bad token on a real environment's URL"
request GET "$API/environments/$DEV_ID" -H "Authorization: Bearer nope"
expect_status 401
expect_json "auth comes before the lookup" 'JSON.stringify(b)' '{"message":"Bearer Authentication Failed"}'

printf '\nwalkthrough: all %d checks passed\n' "$CHECKS"
