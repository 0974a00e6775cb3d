#!/bin/sh
# deploy/bootstrap.sh [--demo] [--admin NAME]: a working pds-trace deployment on this machine with
# Docker Compose, from nothing (README "Deploying"). Run it once, from the repository, as the
# (non-root) account that will own the deployment:
#
#   --demo        against the built-in SMSP simulator: synthetic people, every output SIMULATED
#   (no flag)     against SMSP: first put SMSP_URL and SMSP_ASID in .env (deploy/compose/env.example)
#                 and the endpoint certificate, its key and the CA bundle in secrets/ (PEM):
#                 smsp-client.pem, smsp-client-key.pem, smsp-ca.pem
#   --admin NAME  the first admin's user id (default: admin); asked for a password (12+ characters),
#                 or set PDS_TRACE_NEW_PASSWORD to run it unattended
#
# What it does: writes .env and the secrets under secrets/ (owner-only; the database passwords and
# the web certificate it makes itself), creates the exchange folder, builds the image, starts Redis
# and PostgreSQL, creates the audit database's insert-only role and schema, the first admin and the
# service account svc-pds-trace (its token goes straight into secrets/service-token, never to the
# terminal), installs the schedules, and starts every service, waiting until each is healthy.
set -eu
cd "$(dirname "$0")/.."

DEMO=false
ADMIN=admin
SERVICE=svc-pds-trace
APP_ROLE=pds_trace_app
while [ $# -gt 0 ]; do
  case "$1" in
    --demo) DEMO=true ;;
    --admin) ADMIN="${2:?--admin needs a user id}"; shift ;;
    *) echo "usage: deploy/bootstrap.sh [--demo] [--admin NAME]" >&2; exit 2 ;;
  esac
  shift
done

fail() {
  echo "bootstrap: $*" >&2
  exit 1
}
step() { printf '\n== %s\n' "$*" >&2; }

# Every file written from here on is for this account only: secrets, .env, the exchange folder.
umask 077

# --- preconditions -------------------------------------------------------------------------------
[ "$(id -u)" != 0 ] || fail "run as the account that will own the deployment, not root: secrets/ and exchange/ belong to it, and the containers run as it"
docker compose version >/dev/null 2>&1 || fail "needs Docker Compose v2 (docker compose version)"
compose_version=$(docker compose version --short | sed 's/^v//')
case "$compose_version" in
  2.[0-9].* | 2.1[0-9].* | 1.*) fail "needs Docker Compose 2.20 or later for depends_on 'required:' (found $compose_version)" ;;
esac
[ ! -s secrets/service-token ] || fail "already bootstrapped (secrets/service-token exists). To start again from nothing: docker compose --profile demo down -v && rm -rf secrets .env"

env_has() { [ -f .env ] && grep -q "^$1=" .env; }
env_set() { env_has "$1" || printf '%s=%s\n' "$1" "$2" >>.env; }

if $DEMO; then
  env_set COMPOSE_PROFILES demo
  env_set SMSP_URL https://simulator:8443/smsp/pds
  env_set SMSP_URL_IS_SIMULATOR true
  env_set SMSP_ASID 999000000001
else
  env_has SMSP_URL || fail "set SMSP_URL in .env (copy deploy/compose/env.example), or run with --demo"
  env_has SMSP_ASID || fail "set SMSP_ASID in .env (copy deploy/compose/env.example)"
  for file in smsp-client.pem smsp-client-key.pem smsp-ca.pem; do
    [ -s "secrets/$file" ] || fail "put the SMSP endpoint certificate, key and CA bundle (PEM) in secrets/: secrets/$file is missing"
  done
fi
env_set PDS_TRACE_UID "$(id -u)"
env_set PDS_TRACE_GID "$(id -g)"
mkdir -p secrets exchange/watch exchange/nightly/in exchange/nightly/results
chmod 700 secrets exchange

# --- secrets this script makes --------------------------------------------------------------------
random_secret() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }
if [ ! -s secrets/postgres-password ]; then
  random_secret >secrets/postgres-password
fi
if [ ! -s secrets/audit-database-url ]; then
  printf 'postgres://%s:%s@postgres:5432/pds_trace\n' "$APP_ROLE" "$(random_secret)" >secrets/audit-database-url
fi
if [ ! -s secrets/web.pem ] || [ ! -s secrets/web-key.pem ]; then
  command -v openssl >/dev/null || fail "openssl makes the web service's certificate: install it, or put your own in secrets/web.pem and secrets/web-key.pem"
  step "A self-signed certificate for the web service (replace secrets/web.pem and web-key.pem with your organisation's)"
  host=$(hostname -f 2>/dev/null || hostname)
  openssl req -x509 -newkey rsa:3072 -nodes -days 365 -subj "/CN=$host" \
    -addext "subjectAltName=DNS:$host,DNS:localhost,IP:127.0.0.1" \
    -keyout secrets/web-key.pem -out secrets/web.pem 2>/dev/null
fi
chmod 600 secrets/*

# --- the stores -----------------------------------------------------------------------------------
step "Building the image and starting Redis and PostgreSQL"
docker compose build
docker compose up -d --wait redis postgres

step "The audit database's runtime role ($APP_ROLE: it will only insert and read)"
app_password=$(sed -n 's|^postgres://[^:]*:\([^@]*\)@.*|\1|p' secrets/audit-database-url)
# On standard input, so the password is on no command line.
printf "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%s') THEN CREATE ROLE %s LOGIN; END IF; END \$\$;\nALTER ROLE %s PASSWORD '%s';\n" \
  "$APP_ROLE" "$APP_ROLE" "$APP_ROLE" "$app_password" |
  docker compose exec -T postgres psql -q -v ON_ERROR_STOP=1 -U postgres -d pds_trace >/dev/null

# --- people and the service account -----------------------------------------------------------------
if [ -z "${PDS_TRACE_NEW_PASSWORD:-}" ]; then
  [ -t 0 ] || fail "no terminal to ask the admin's password at: set PDS_TRACE_NEW_PASSWORD"
  printf 'Password for the first admin, %s (12 characters or more): ' "$ADMIN" >&2
  stty -echo; read -r PDS_TRACE_NEW_PASSWORD; stty echo; echo >&2
  printf 'Again: ' >&2
  stty -echo; read -r again; stty echo; echo >&2
  [ "$PDS_TRACE_NEW_PASSWORD" = "$again" ] || fail "the two passwords differ"
fi
PDS_TRACE_PASSWORD=$PDS_TRACE_NEW_PASSWORD
export PDS_TRACE_NEW_PASSWORD PDS_TRACE_PASSWORD

# One-off containers of the `setup` service, given the admin's password by name (-e NAME takes the
# value from this script's environment: it is on no command line).
one_off() { docker compose run --rm -T -e PDS_TRACE_NEW_PASSWORD -e PDS_TRACE_PASSWORD "$@"; }

# The first admin cannot sign in to `audit migrate` before existing, and cannot be recorded in a
# PostgreSQL trail before the schema exists: so the first admin and the migration are recorded in
# the data folder's file trail, then the folder's audit store moves to PostgreSQL on purpose
# (`audit pin --accept`) and the admin accepts users.json there (README, the audit trail).
step "The first admin, $ADMIN, and the audit schema"
one_off -e AUDIT_DATABASE_URL_FILE= setup users add "$ADMIN" --role admin
one_off -e AUDIT_DATABASE_URL_FILE= --entrypoint sh setup -c \
  'exec pds-trace audit migrate --owner-url "postgres://postgres:$(cat /run/secrets/postgres_password)@postgres:5432/pds_trace" --app-role "$1" --as "$2"' \
  sh "$APP_ROLE" "$ADMIN"
one_off setup audit pin --accept --as "$ADMIN"
one_off setup users accept-store --as "$ADMIN"

step "The service account $SERVICE (tracer and operator), its token into secrets/service-token"
added=$(one_off setup users add "$SERVICE" --service --role tracer --role operator --as "$ADMIN")
printf '%s\n' "$added" | sed -n 's/^\(pdst_[A-Za-z0-9_-]*\)[[:space:]]*$/\1/p' >secrets/service-token
[ -s secrets/service-token ] || fail "users add printed no token for $SERVICE"
chmod 600 secrets/service-token

# --- the simulator (demo) -------------------------------------------------------------------------
if $DEMO; then
  step "The SMSP simulator (synthetic data), and its client certificate for the other services"
  docker compose up -d --wait simulator
  docker compose cp simulator:/certs/client.pem secrets/smsp-client.pem
  docker compose cp simulator:/certs/client-key.pem secrets/smsp-client-key.pem
  docker compose cp simulator:/certs/ca.pem secrets/smsp-ca.pem
  chmod 600 secrets/smsp-*.pem
fi

step "The schedules of deploy/compose/schedules.json"
one_off setup schedule sync --as "$ADMIN"

step "Every service, waiting until each is healthy"
docker compose up -d --wait
docker compose ps

port=$(sed -n 's/^PDS_TRACE_WEB_PUBLISH=.*:\([0-9]*\)$/\1/p' .env)
cat >&2 <<EOF

pds-trace is running$($DEMO && echo ' against the SMSP SIMULATOR: synthetic data only, every output is SIMULATED').
  Web:            https://localhost:${port:-8443}/  (sign in as $ADMIN; add people with
                  docker compose run --rm cli users add <id> --role tracer --as $ADMIN)
  Watched folder: drop CSV files into exchange/watch/inbox/; results appear in exchange/watch/outbox/
  Nightly:        exchange/nightly/in/ is traced at 03:30 into exchange/nightly/results/
  More workers:   docker compose up -d --scale worker=4
  Health:         docker compose run --rm cli doctor
EOF
