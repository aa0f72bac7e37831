-- One database per service: services never share tables.
CREATE DATABASE identity;
CREATE DATABASE music;
CREATE DATABASE concerts;
CREATE DATABASE inventory;
CREATE DATABASE academy;
CREATE DATABASE marketplace;
CREATE DATABASE billing;
CREATE DATABASE admin;
