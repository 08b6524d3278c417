-- Replica of the image's iris dataset, cut to a few rows of Fisher's iris data: the same tables and columns
-- (class 0 setosa, 1 versicolor, 2 virginica), far fewer rows.
CREATE DATABASE IF NOT EXISTS iris;
DROP TABLE IF EXISTS iris.train;
CREATE TABLE iris.train (sepal_length float, sepal_width float, petal_length float, petal_width float, class int);
INSERT INTO iris.train VALUES
  (5.1, 3.5, 1.4, 0.2, 0), (4.9, 3.0, 1.4, 0.2, 0), (4.7, 3.2, 1.3, 0.2, 0),
  (7.0, 3.2, 4.7, 1.4, 1), (6.4, 3.2, 4.5, 1.5, 1), (6.9, 3.1, 4.9, 1.5, 1),
  (6.3, 3.3, 6.0, 2.5, 2), (5.8, 2.7, 5.1, 1.9, 2), (7.1, 3.0, 5.9, 2.1, 2);
DROP TABLE IF EXISTS iris.test;
CREATE TABLE iris.test (sepal_length float, sepal_width float, petal_length float, petal_width float, class int);
INSERT INTO iris.test VALUES (5.0, 3.6, 1.4, 0.2, 0), (5.5, 2.3, 4.0, 1.3, 1), (6.5, 3.0, 5.8, 2.2, 2);
