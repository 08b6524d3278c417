#!/bin/bash
# Runs the sqlflow/sqlflow:mysql image with a per-user password. That image's /start.bash creates root with the
# fixed password "root", loads the tutorial datasets, then serves HTTP on 8890. We let it do that, then change
# root's password to $MYSQL_ROOT_PASSWORD; the readiness probe logs in with that password, so the database is
# Ready only once the datasets are in and the fixed password is gone. On a container restart (same pod, data
# kept) the password is already changed and /start.bash would wait forever for "root": start mysqld directly.
set -eu
marker=/var/lib/mysql/.playground-password-set
if [ -f "$marker" ]; then
  exec mysqld --user=mysql --console --skip-name-resolve --skip-networking=0 --port="${MYSQL_PORT:-3306}"
fi
/start.bash &
until (exec 3<>/dev/tcp/127.0.0.1/8890) 2>/dev/null; do sleep 1; done
mysql -uroot -proot -h127.0.0.1 -e "ALTER USER 'root'@'%' IDENTIFIED BY '${MYSQL_ROOT_PASSWORD}'; FLUSH PRIVILEGES;"
touch "$marker"
wait
