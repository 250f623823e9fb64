// A small HTTPS server on Java's own TLS (JSSE), for the real-server tests: `java JsseServer.java SITES CLIENT_CA`.
//
// SITES holds one line per site: site<TAB>name<TAB>port<TAB>keystore.p12<TAB>protocols<TAB>cipher suites<TAB>
// client-auth<TAB>status, where client-auth is none, require (need-client-auth in the handshake), later (asked
// for after the request, by a TLS 1.2 renegotiation) or http (the handshake takes any certificate or none, and
// the answer refuses as IIS does: 403.7 when none was sent, 403.16 when it is not trusted). The key stores'
// password comes from the environment (JSSE_PASSWORD). GET / answers with the site's status, anything else 404.
import java.io.*;
import java.net.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.security.KeyStore;
import java.security.cert.*;
import java.util.*;
import java.util.concurrent.*;
import javax.net.ssl.*;

public class JsseServer {
    static X509TrustManager clientCas;

    public static void main(String[] args) throws Exception {
        char[] password = System.getenv("JSSE_PASSWORD").toCharArray();
        clientCas = trustManagerFor(args[1]);
        ExecutorService pool = Executors.newCachedThreadPool();
        for (String line : Files.readAllLines(Paths.get(args[0]))) {
            String[] f = line.split("\t", -1);
            if (f.length < 8 || !f[0].equals("site")) continue;
            SSLServerSocket server = listen(f, password);
            String mode = f[6];
            int status = Integer.parseInt(f[7]);
            Thread t = new Thread(() -> {
                while (true) {
                    try {
                        SSLSocket s = (SSLSocket) server.accept();
                        pool.submit(() -> serve(s, mode, status));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            t.setDaemon(false);
            t.start();
        }
        System.out.println("ready");
        System.out.flush();
    }

    static SSLServerSocket listen(String[] f, char[] password) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(f[3])) {
            keys.load(in, password);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, password);
        TrustManager trust = f[6].equals("http") ? anyCertificate() : clientCas;
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), new TrustManager[] {trust}, null);
        SSLServerSocket server = (SSLServerSocket) context.getServerSocketFactory()
            .createServerSocket(Integer.parseInt(f[2]), 64, InetAddress.getByName("127.0.0.1"));
        server.setEnabledProtocols(f[4].split(","));
        if (!f[5].isEmpty()) server.setEnabledCipherSuites(f[5].split(","));
        if (f[6].equals("require")) server.setNeedClientAuth(true);
        if (f[6].equals("http")) server.setWantClientAuth(true);
        return server;
    }

    static void serve(SSLSocket s, String mode, int status) {
        try (s) {
            s.setSoTimeout(5000);
            s.startHandshake();
            InputStream in = s.getInputStream();
            String path = readRequestPath(in);
            if (mode.equals("later")) {
                // Renegotiate (TLS 1.2): the server asks for the certificate only now. startHandshake() only
                // sends the HelloRequest; the new handshake is read while reading, so read until it is done.
                CountDownLatch renegotiated = new CountDownLatch(1);
                s.addHandshakeCompletedListener(event -> renegotiated.countDown());
                s.setNeedClientAuth(true);
                s.startHandshake();
                s.setSoTimeout(100);
                long deadline = System.currentTimeMillis() + 5000;
                while (renegotiated.getCount() > 0 && System.currentTimeMillis() < deadline) {
                    try {
                        if (in.read() < 0) return;
                    } catch (SocketTimeoutException e) {
                        // nothing to read yet: the handshake goes on
                    }
                }
                if (renegotiated.getCount() > 0) return;
            }
            String answer;
            if (mode.equals("http") && peer(s) == null) {
                answer = page(403, "Forbidden", "HTTP Error 403.7 - Forbidden: The page you are attempting to access"
                    + " requires your browser to have a Secure Sockets Layer (SSL) client certificate that the Web"
                    + " server recognizes.");
            } else if (mode.equals("http") && !trusted(peer(s))) {
                answer = page(403, "Forbidden", "HTTP Error 403.16 - Forbidden: Your client certificate is either"
                    + " not trusted or is invalid.");
            } else if (!path.equals("/")) {
                answer = page(404, "Not Found", "not found");
            } else {
                answer = page(status, status == 200 ? "OK" : "Forbidden", "jsse");
            }
            OutputStream out = s.getOutputStream();
            out.write(answer.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        } catch (Exception e) {
            // clients that refuse our certificate, probes that hang up: all expected
        }
    }

    static String readRequestPath(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n") && head.length() < 16384) {
            int b = in.read();
            if (b < 0) break;
            head.append((char) b);
        }
        String[] first = head.toString().split("\r\n", 2)[0].split(" ");
        return first.length > 1 ? first[1] : "/";
    }

    static X509Certificate[] peer(SSLSocket s) {
        try {
            return (X509Certificate[]) s.getSession().getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }

    static boolean trusted(X509Certificate[] chain) {
        try {
            clientCas.checkClientTrusted(chain, "UNKNOWN");
            return true;
        } catch (CertificateException e) {
            return false;
        }
    }

    static String page(int status, String reason, String text) {
        String body = "<html><head><title>" + status + " " + reason + "</title></head><body><h1>" + text
            + "</h1></body></html>\n";
        return "HTTP/1.1 " + status + " " + reason + "\r\nServer: JSSE test server\r\nContent-Type: text/html\r\n"
            + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body;
    }

    static X509TrustManager trustManagerFor(String pemFile) throws Exception {
        KeyStore cas = KeyStore.getInstance(KeyStore.getDefaultType());
        cas.load(null, null);
        try (InputStream in = new FileInputStream(pemFile)) {
            int n = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                cas.setCertificateEntry("ca" + n++, c);
            }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(cas);
        return (X509TrustManager) tmf.getTrustManagers()[0];
    }

    static X509TrustManager anyCertificate() {
        return new X509TrustManager() {
            public void checkClientTrusted(X509Certificate[] chain, String auth) {}
            public void checkServerTrusted(X509Certificate[] chain, String auth) {}
            public X509Certificate[] getAcceptedIssuers() { return clientCas.getAcceptedIssuers(); }
        };
    }
}
