#!/bin/sh
# The replica's /start.bash: written here from the behaviour of SQLFlow's docker/mysql/start.bash
# (sql-machine-learning/sqlflow, last changed at commit 7074db85, 2020-09-24), not copied from it. The image's CMD; the
# playground's default entrypoint replaces it, so the node tier runs it only where a test asks for it. It keeps the
# original's weaknesses on purpose: root/root over the network while the datasets load, again after every restart.
set -e

# First start of this container (the marker directory lives in the container's own layer, not on the data volume):
# a data directory whose only account is root@'%' with password root, and no test database.
if [ ! -d /docker-entrypoint-initdb.d ]; then
  mkdir -p /var/run/mysqld /var/lib/mysql /docker-entrypoint-initdb.d
  chown mysql:mysql /var/run/mysqld /var/lib/mysql
  mysql_install_db --user=mysql --datadir=/var/lib/mysql >/dev/null
  mysqld --user=mysql --bootstrap --verbose=0 --skip-name-resolve --skip-networking=0 >/dev/null <<'SQL'
FLUSH PRIVILEGES;
DELETE FROM mysql.user;
GRANT ALL ON *.* TO 'root'@'%' IDENTIFIED BY 'root' WITH GRANT OPTION;
DROP DATABASE IF EXISTS test;
FLUSH PRIVILEGES;
SQL
fi

# The server on every address, in the background; MYSQL_HOST and MYSQL_PORT only steer the client that waits for it.
MYSQL_HOST=${MYSQL_HOST:-0.0.0.0}
MYSQL_PORT=${MYSQL_PORT:-3306}
nohup mysqld --user=mysql --console --skip-name-resolve --skip-networking=0 >/dev/null 2>&1 &
sleep 2
until mysql -uroot -proot --host "$MYSQL_HOST" --port "$MYSQL_PORT" -e ';'; do
  echo "waiting for mysqld"
  sleep 1
done

# Every dataset, as root, in name order; then the marker file the original playground's readiness probe read.
for dataset in /datasets/*; do
  echo "$dataset"
  mysql -uroot -proot <"$dataset"
done
mkdir -p /work
touch /work/mysql-inited
chmod 777 /work/mysql-inited

# Nothing watches mysqld from here on.
while :; do sleep 86400; done
