// TLS Readiness Checker's Java probe: a TLS 1.2 handshake to each address through this Java, with Java's own
// trust store (cacerts) plus any extra certificates. Run as `java Probe.java` (Java 11 or newer).
//
// Standard input, one command per line:
//   ca <path>                       extra trusted certificates (PEM), added to Java's own
//   proxy <host> <port> [<base64>]  go through this HTTP proxy (base64 of user:password, never on the command line)
//   target <id> <host> <port> <timeout-ms>
//   go                              probe every target, then exit
// Standard output: "java<TAB>version<TAB>default protocols", then one line per target:
//   "result<TAB>id<TAB>kind<TAB>protocol<TAB>cipher<TAB>message" where kind is ok, cert, handshake, connect,
//   timeout or proxy; then "done".
import java.io.*;
import java.net.*;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.*;
import java.util.*;
import java.util.concurrent.*;
import javax.net.ssl.*;

public class Probe {
    static String proxyHost, proxyAuth;
    static int proxyPort;

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        List<String[]> targets = new ArrayList<>();
        List<String> caFiles = new ArrayList<>();
        String protocols = String.join(",", SSLContext.getDefault().getDefaultSSLParameters().getProtocols());
        System.out.println("java\t" + System.getProperty("java.version") + "\t" + protocols);
        System.out.flush();
        String line;
        while ((line = in.readLine()) != null && !line.equals("go")) {
            String[] p = line.split(" ");
            if (p[0].equals("ca")) caFiles.add(line.substring(3));
            else if (p[0].equals("proxy")) {
                proxyHost = p[1];
                proxyPort = Integer.parseInt(p[2]);
                proxyAuth = p.length > 3 ? p[3] : null;
            } else if (p[0].equals("target")) targets.add(p);
        }
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {trustManager(caFiles)}, null);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<String>> results = new ArrayList<>();
        for (String[] t : targets) {
            results.add(pool.submit(() -> probe(context, t[1], t[2], Integer.parseInt(t[3]), Integer.parseInt(t[4]))));
        }
        for (Future<String> r : results) System.out.println(r.get());
        System.out.println("done");
        System.out.flush();
        pool.shutdownNow();
    }

    static String probe(SSLContext context, String id, String host, int port, int timeout) {
        try (Socket raw = open(host, port, timeout)) {
            SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(raw, host, port, true);
            s.setEnabledProtocols(new String[] {"TLSv1.2"});
            SSLParameters params = s.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            s.setSSLParameters(params);
            s.setSoTimeout(timeout);
            s.startHandshake();
            SSLSession session = s.getSession();
            return line(id, "ok", session.getProtocol(), session.getCipherSuite(), "");
        } catch (SSLHandshakeException e) {
            return line(id, isCertificateProblem(e) ? "cert" : "handshake", "", "", e.toString());
        } catch (SocketTimeoutException e) {
            return line(id, "timeout", "", "", e.toString());
        } catch (ProxyRefused e) {
            return line(id, "proxy", "", "", e.getMessage());
        } catch (Exception e) {
            return line(id, "connect", "", "", e.toString());
        }
    }

    static boolean isCertificateProblem(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof CertificateException || c instanceof CertPathValidatorException) return true;
        }
        return false;
    }

    static class ProxyRefused extends IOException {
        ProxyRefused(String message) { super(message); }
    }

    static Socket open(String host, int port, int timeout) throws IOException {
        Socket s = new Socket();
        s.setSoTimeout(timeout);
        if (proxyHost == null) {
            s.connect(new InetSocketAddress(host, port), timeout);
            return s;
        }
        s.connect(new InetSocketAddress(proxyHost, proxyPort), timeout);
        String request = "CONNECT " + host + ":" + port + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\n"
            + (proxyAuth != null ? "Proxy-Authorization: Basic " + proxyAuth + "\r\n" : "") + "\r\n";
        OutputStream out = s.getOutputStream();
        out.write(request.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) throw new ProxyRefused("the proxy closed the connection");
            head.append((char) b);
        }
        String status = head.toString().split("\r\n")[0];
        if (!status.matches("HTTP/1\\.[01] 200.*")) throw new ProxyRefused("the proxy answered " + status);
        return s;
    }

    static String line(String id, String kind, String protocol, String cipher, String message) {
        return String.join("\t", "result", id, kind, protocol, cipher, message.replaceAll("[\\t\\r\\n]", " "));
    }

    static X509TrustManager trustManager(List<String> caFiles) throws Exception {
        TrustManagerFactory own = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        own.init((KeyStore) null);
        X509TrustManager java = (X509TrustManager) own.getTrustManagers()[0];
        if (caFiles.isEmpty()) return java;
        KeyStore extra = KeyStore.getInstance(KeyStore.getDefaultType());
        extra.load(null, null);
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        int n = 0;
        for (String file : caFiles) {
            try (InputStream pem = new FileInputStream(file)) {
                for (Certificate c : factory.generateCertificates(pem)) extra.setCertificateEntry("extra" + n++, c);
            }
        }
        TrustManagerFactory more = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        more.init(extra);
        X509TrustManager added = (X509TrustManager) more.getTrustManagers()[0];
        return new X509TrustManager() {
            public void checkClientTrusted(X509Certificate[] chain, String auth) throws CertificateException {
                java.checkClientTrusted(chain, auth);
            }
            public void checkServerTrusted(X509Certificate[] chain, String auth) throws CertificateException {
                try {
                    java.checkServerTrusted(chain, auth);
                } catch (CertificateException first) {
                    try {
                        added.checkServerTrusted(chain, auth);
                    } catch (CertificateException second) {
                        throw first;
                    }
                }
            }
            public X509Certificate[] getAcceptedIssuers() {
                List<X509Certificate> all = new ArrayList<>(Arrays.asList(java.getAcceptedIssuers()));
                all.addAll(Arrays.asList(added.getAcceptedIssuers()));
                return all.toArray(new X509Certificate[0]);
            }
        };
    }
}
