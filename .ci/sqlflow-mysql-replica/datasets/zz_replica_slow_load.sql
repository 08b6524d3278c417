-- Replica only, loaded last (the names sort it there): the real image's large datasets take tens of seconds, so
-- this one takes at least 10 s, and records in UTC when it finished. A Ready database must have it; re-running it
-- on a data directory that already has it fails (no IF NOT EXISTS), so a half-done initialisation that was not
-- started again from an empty data directory never becomes Ready.
CREATE DATABASE replica_load;
CREATE TABLE replica_load.finished (id INT PRIMARY KEY, at DATETIME NOT NULL);
SELECT SLEEP(10);
SET time_zone = '+00:00';
INSERT INTO replica_load.finished VALUES (1, NOW());
