#!/bin/sh
# The database container's command for sqlflow/sqlflow:mysql (playground.database.entrypoint=sqlflow-start-script),
# run as `/bin/sh -c`. That image (SQLFlow's docker/mysql/, Alpine 3.12, MariaDB 10.4) has no bash: BusyBox ash
# must run this, so it is POSIX sh and uses only mysql_install_db, mysqld, mysql and mysqladmin, which the image
# has (Debian's MariaDB 10.11 has the same names, so the node tier's replica runs it too).
#
# The image's own /start.bash is not used: it opens the network with root/root and keeps that password while the
# tutorial datasets load. Here the network opens last:
#   1. without the marker below, the data directory is emptied (an interrupted initialisation starts again from
#      scratch) and made by mysql_install_db;
#   2. mysqld starts with networking off (a socket in a private directory); over that socket the accounts become
#      exactly root@'%' with the user's password (and MariaDB's own locked mariadb.sys@localhost), the test
#      database goes, and every /datasets/* file loads;
#   3. that mysqld stops, the marker is written on the data volume, and mysqld is exec'd with networking on.
# So nothing but the user's password ever works over the network, a Ready pod (the probe logs in over TCP) has its
# datasets, a container restart in the same pod keeps data and password (the marker is on the volume), and when
# mysqld exits the container exits.
set -eu

datadir=/var/lib/mysql
marker=$datadir/sqlflow-playground-initialised
port=${MYSQL_PORT:-3306}
password=${MYSQL_ROOT_PASSWORD:-}

say() { echo "sqlflow-playground entrypoint: $*" >&2; }
die() { say "$*"; exit 1; }

# The playground's passwords are base62: anything else would need quoting in SQL and in the option file below.
case $password in
  '' | *[!A-Za-z0-9_]*) die "MYSQL_ROOT_PASSWORD must be set and consist of letters, digits and _ only" ;;
esac

# Alpine's package makes no /run/mysqld (its init script does); upstream's /start.bash makes it the same way.
if [ "$(id -u)" = 0 ]; then
  mkdir -p /run/mysqld "$datadir"
  chown mysql:mysql /run/mysqld "$datadir"
  as_user=--user=mysql
else
  # playground.database.run-as-user: the pod's fsGroup makes the data directory writable.
  as_user=
fi

# Alpine's /etc/my.cnf.d/mariadb-server.cnf says skip-networking: say explicitly what each server does.
serve() {
  exec mysqld $as_user --datadir="$datadir" --socket=/run/mysqld/mysqld.sock --skip-name-resolve \
    --skip-networking=0 --port="$port"
}

if [ -f "$marker" ]; then
  say "data directory initialised earlier: starting mysqld on port $port"
  serve
fi

say "initialising $datadir (networking off until the password and the datasets are in)"
rm -rf "${datadir:?}"/* "$datadir"/.[!.]* "$datadir"/..?*
[ -z "$as_user" ] || chown mysql:mysql "$datadir"
# normal: root@localhost without a password, so this script can log in over the socket whatever uid it runs as;
# step 2 drops that account before the network opens. --force: no look-up of the host name (a failed look-up
# would stop it; the accounts named after the host go in step 2 anyway).
mysql_install_db $as_user --datadir="$datadir" --auth-root-authentication-method=normal --force

private=$(mktemp -d)
chmod 700 "$private"
[ -z "$as_user" ] || chown mysql:mysql "$private"
socket=$private/init.sock
mysqld $as_user --datadir="$datadir" --socket="$socket" --pid-file="$private/init.pid" --skip-networking \
  --skip-name-resolve &
init_pid=$!

tries=0
until mysqladmin --no-defaults --socket="$socket" -uroot status >/dev/null 2>&1; do
  kill -0 "$init_pid" 2>/dev/null || die "mysqld exited while initialising (its log is above)"
  tries=$((tries + 1))
  [ "$tries" -lt 120 ] || die "mysqld did not open its socket within 120 s"
  sleep 1
done

# Every account mysql_install_db made (root@localhost, 127.0.0.1, ::1, the host name, the anonymous ones, the
# unix_socket account of the mysql user) goes, and so do the anonymous grants on test databases; mariadb.sys stays:
# MariaDB >= 10.4.13 makes it as the locked definer of the mysql.user view, and nobody can log in as it. Roles
# (MariaDB 10.11's PUBLIC) are no logins and stay.
others=$(mysql --no-defaults --socket="$socket" -uroot -N -B -e \
  "SELECT GROUP_CONCAT(CONCAT(QUOTE(User), '@', QUOTE(Host))) FROM mysql.user
   WHERE is_role = 'N' AND User <> 'mariadb.sys' AND NOT (User = 'root' AND Host = '%')")
mysql --no-defaults --socket="$socket" -uroot <<SQL
CREATE USER 'root'@'%' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
DROP DATABASE IF EXISTS test;
DELETE FROM mysql.db WHERE User = '';
FLUSH PRIVILEGES;
$( [ "$others" = NULL ] || echo "DROP USER $others;" )
SQL

# From here on, root@'%' with the user's password, read from a private option file (not the command line).
printf '[client]\nuser=root\npassword=%s\nsocket=%s\n' "$password" "$socket" >"$private/client.cnf"
for f in /datasets/*; do
  [ -f "$f" ] || continue
  say "loading $f"
  mysql --defaults-file="$private/client.cnf" <"$f"
done

mysqladmin --defaults-file="$private/client.cnf" shutdown
wait "$init_pid" || true
rm -rf "$private"
touch "$marker"
say "initialised: starting mysqld on port $port"
serve
