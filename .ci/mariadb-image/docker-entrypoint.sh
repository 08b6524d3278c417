#!/bin/sh
# Entrypoint of the node tier's MariaDB image. It honours the environment the playground's pod spec sets, as the
# official mysql and mariadb images do:
#   MYSQL_ROOT_PASSWORD (or MARIADB_ROOT_PASSWORD)  required: root's password, for 'root'@'%' and 'root'@'localhost'
#   MYSQL_PORT                                      the port to listen on (default 3306)
#   MYSQL_DATABASE                                  optional: a database to create
#   MYSQL_USER + MYSQL_PASSWORD                     optional: a user with all rights on MYSQL_DATABASE
# Started as root it hands the data directory to the mysql user and drops to it; started as another uid
# (playground.database.run-as-user) it runs as that uid and expects a writable data directory (fsGroup).
set -eu
ROOT_PW=${MYSQL_ROOT_PASSWORD:-${MARIADB_ROOT_PASSWORD:-}}
[ -n "$ROOT_PW" ] || { echo "docker-entrypoint: MYSQL_ROOT_PASSWORD must be set" >&2; exit 1; }
PORT=${MYSQL_PORT:-3306}
DATADIR=/var/lib/mysql
RUN=/run/mysqld
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$RUN" "$DATADIR"
  chown mysql:mysql "$RUN" "$DATADIR"
  AS_USER=--user=mysql
else
  RUN=$(mktemp -d)
  AS_USER=
fi
if [ ! -d "$DATADIR/mysql" ]; then
  echo "docker-entrypoint: initialising $DATADIR"
  mariadb-install-db $AS_USER --datadir="$DATADIR" --skip-test-db --auth-root-authentication-method=normal >/dev/null
fi
# SQL string literal and identifier quoting, so any password works.
lit() { printf "'%s'" "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/''/g")"; }
ident() { printf '`%s`' "$(printf '%s' "$1" | sed -e 's/`/``/g')"; }
PW=$(lit "$ROOT_PW")
umask 077
{
  # The init file runs at every start: a restarted container keeps its data and gets the current password.
  # mariadb-install-db also makes root@127.0.0.1, root@::1 and root@<hostname> without a password; as more
  # specific hosts they would win over root@'%' for TCP logins (the readiness probe's), so only two roots stay.
  echo "DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1', $(lit root)@$(lit "$(cat /proc/sys/kernel/hostname)");"
  echo "CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY $PW;"
  echo "ALTER USER 'root'@'%' IDENTIFIED BY $PW;"
  echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $PW;"
  echo "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;"
  if [ -n "${MYSQL_DATABASE:-}" ]; then
    echo "CREATE DATABASE IF NOT EXISTS $(ident "$MYSQL_DATABASE");"
    if [ -n "${MYSQL_USER:-}" ] && [ -n "${MYSQL_PASSWORD:-}" ]; then
      echo "CREATE USER IF NOT EXISTS $(lit "$MYSQL_USER")@'%' IDENTIFIED BY $(lit "$MYSQL_PASSWORD");"
      echo "GRANT ALL PRIVILEGES ON $(ident "$MYSQL_DATABASE").* TO $(lit "$MYSQL_USER")@'%';"
    fi
  fi
  echo "FLUSH PRIVILEGES;"
} >"$RUN/init.sql"
[ -z "$AS_USER" ] || chown mysql:mysql "$RUN/init.sql"
exec mariadbd $AS_USER --datadir="$DATADIR" --socket="$RUN/mysqld.sock" --pid-file="$RUN/mysqld.pid" \
  --bind-address=0.0.0.0 --port="$PORT" --skip-name-resolve --init-file="$RUN/init.sql" "$@"
