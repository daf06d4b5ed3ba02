/**
 * What well-known servers answer a plain HTTP request on a port where they
 * expect TLS, as they send it: see `TLS_EXPECTED_PHRASES` for where each
 * comes from.
 */

/** nginx 1.18's page for its code 497, sent as 400; nginx 1.24 differs in the version only. */
export const NGINX_BODY =
  "<html>\r\n" +
  "<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n" +
  "<body>\r\n" +
  "<center><h1>400 Bad Request</h1></center>\r\n" +
  "<center>The plain HTTP request was sent to HTTPS port</center>\r\n" +
  "<hr><center>nginx/1.18.0</center>\r\n" +
  "</body>\r\n" +
  "</html>\r\n";

/** nginx's whole answer, closing the connection after it. */
export const NGINX_ANSWER =
  "HTTP/1.1 400 Bad Request\r\n" +
  "Server: nginx/1.18.0\r\n" +
  "Date: Mon, 03 Mar 2025 12:00:00 GMT\r\n" +
  "Content-Type: text/html\r\n" +
  `Content-Length: ${NGINX_BODY.length}\r\n` +
  "Connection: close\r\n" +
  "\r\n" +
  NGINX_BODY;

/** Go's net/http body: no header says where it ends, the server closes after it. */
export const GO_BODY = "Client sent an HTTP request to an HTTPS server.\n";

/** Go's net/http whole answer: HTTP/1.0, no header at all. */
export const GO_ANSWER = `HTTP/1.0 400 Bad Request\r\n\r\n${GO_BODY}`;

/** Apache httpd 2.4's mod_ssl page, as `ap_send_error_response()` builds it. */
export const APACHE_BODY =
  '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n' +
  "<html><head>\n" +
  "<title>400 Bad Request</title>\n" +
  "</head><body>\n" +
  "<h1>Bad Request</h1>\n" +
  "<p>Your browser sent a request that this server could not understand.<br />\n" +
  "Reason: You're speaking plain HTTP to an SSL-enabled server port.<br />\n" +
  " Instead use the HTTPS scheme to access this URL, please.<br />\n" +
  "</p>\n" +
  "<hr>\n" +
  "<address>Apache/2.4.58 (Ubuntu) Server at localhost Port 443</address>\n" +
  "</body></html>\n";

/** Apache's whole answer. */
export const APACHE_ANSWER =
  "HTTP/1.1 400 Bad Request\r\n" +
  "Date: Mon, 03 Mar 2025 12:00:00 GMT\r\n" +
  "Server: Apache/2.4.58 (Ubuntu)\r\n" +
  `Content-Length: ${APACHE_BODY.length}\r\n` +
  "Connection: close\r\n" +
  "Content-Type: text/html; charset=iso-8859-1\r\n" +
  "\r\n" +
  APACHE_BODY;

/** Tomcat's body: no header says where it ends, the server closes after it. */
export const TOMCAT_BODY = "Bad Request\r\nThis combination of host and port requires TLS.\r\n";

/** Tomcat's whole answer, with an empty reason phrase. */
export const TOMCAT_ANSWER =
  "HTTP/1.1 400 \r\n" +
  "Content-Type: text/plain;charset=UTF-8\r\n" +
  "Connection: close\r\n" +
  "\r\n" +
  TOMCAT_BODY;

/** Each server's answer and the body it holds. */
export const TLS_EXPECTED_ANSWERS: readonly (readonly [
  server: string,
  answer: string,
  body: string,
])[] = [
  ["nginx", NGINX_ANSWER, NGINX_BODY],
  ["Go's net/http", GO_ANSWER, GO_BODY],
  ["Apache httpd", APACHE_ANSWER, APACHE_BODY],
  ["Tomcat", TOMCAT_ANSWER, TOMCAT_BODY],
];
