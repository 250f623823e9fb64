// TLS Readiness Checker's Java probe: a TLS 1.2 handshake to each address through this Java, with Java's own
// trust store (cacerts) plus any extra certificates, presenting the user's certificate when one is given, then one
// HTTP request. Run from its classes compiled for Java 8 (installers/compile-probe), or as `java Probe.java` (Java
// 11 or newer). It is started early and given each address as soon as its connection is open: every target is
// probed at once, and its result printed when it is done.
//
// Standard input, one command per line (settings first, then targets as they come):
//   trust <name> <path>             a set of extra trusted certificates (PEM), added to Java's own, for targets
//                                   that name it
//   proxy <host> <port> [<base64>]  go through this HTTP proxy (base64 of user:password, never on the command line)
//   clientcert <path>               present this PKCS#12 file's certificate when a server asks for one ...
//   clientpass <base64>             ... opened with this password (on standard input, never on the command line)
//   target <id> <host> <port> <timeout-ms> <path> <trust name or ->
//   end                             no more targets: finish those under way, then exit
// Standard output: "java<TAB>version<TAB>default protocols", then one line per target, in the order they finish:
//   "result<TAB>id<TAB>kind<TAB>protocol<TAB>cipher<TAB>message<TAB>http status<TAB>page" where kind is ok, cert,
//   name (the certificate does not name the server), handshake, connect, timeout or proxy; then "done".
import java.io.*;
import java.net.*;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.*;
import java.util.*;
import java.util.concurrent.*;
import javax.net.ssl.*;

public class Probe {
    static String proxyHost, proxyAuth, clientCert;
    static char[] clientPass;
    static int proxyPort;

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        Map<String, String> trustFiles = new HashMap<>();
        Map<String, SSLContext> contexts = new HashMap<>();
        String protocols = String.join(",", SSLContext.getDefault().getDefaultSSLParameters().getProtocols());
        System.out.println("java\t" + System.getProperty("java.version") + "\t" + protocols);
        System.out.flush();
        Thread warm = new Thread(Probe::warmUp);  // while the first address is still being checked
        warm.setDaemon(true);
        warm.start();
        ExecutorService pool = Executors.newCachedThreadPool();
        List<Future<?>> running = new ArrayList<>();
        KeyManager[] keys = null;
        boolean keysLoaded = false;
        String line;
        while ((line = in.readLine()) != null && !line.equals("end")) {
            String[] p = line.split(" ");
            if (p[0].equals("trust") && p.length > 2) trustFiles.put(p[1], line.substring(7 + p[1].length()));
            else if (p[0].equals("proxy")) {
                proxyHost = p[1];
                proxyPort = Integer.parseInt(p[2]);
                proxyAuth = p.length > 3 ? p[3] : null;
            } else if (p[0].equals("clientcert")) clientCert = line.substring(11);
            else if (p[0].equals("clientpass")) {
                clientPass = new String(Base64.getDecoder().decode(p[1]), StandardCharsets.UTF_8).toCharArray();
            } else if (p[0].equals("target") && p.length >= 7) {
                if (!keysLoaded) {
                    keys = keyManagers();
                    keysLoaded = true;
                }
                String trust = p[6];
                SSLContext context = contexts.get(trust);
                if (context == null) {
                    context = SSLContext.getInstance("TLS");
                    List<String> files = trust.equals("-") ? new ArrayList<>() : Arrays.asList(trustFiles.get(trust));
                    context.init(keys, new TrustManager[] {trustManager(files)}, null);
                    contexts.put(trust, context);
                }
                final SSLContext use = context;
                running.add(pool.submit(() -> {
                    String result = probe(use, p[1], p[2], Integer.parseInt(p[3]), Integer.parseInt(p[4]), p[5]);
                    synchronized (System.out) {
                        System.out.println(result);
                        System.out.flush();
                    }
                }));
            }
        }
        for (Future<?> r : running) r.get();
        System.out.println("done");
        System.out.flush();
        pool.shutdownNow();
    }

    static String probe(SSLContext context, String id, String host, int port, int timeout, String path) {
        try (Socket raw = open(host, port, timeout)) {
            SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(raw, host, port, true);
            s.setEnabledProtocols(new String[] {"TLSv1.2"});
            SSLParameters params = s.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            s.setSSLParameters(params);
            s.setSoTimeout(timeout);
            s.startHandshake();
            SSLSession session = s.getSession();
            // The request matters when Java presents the user's certificate: a server may refuse it only in its
            // answer. Without one, the handshake alone says what Java can do (and costs one round trip less).
            String[] answer = clientCert != null ? ask(s, host, port, path) : new String[] {"", ""};
            return line(id, "ok", session.getProtocol(), session.getCipherSuite(), "", answer[0], answer[1]);
        } catch (SSLHandshakeException e) {
            String kind = isNameProblem(e) ? "name" : isCertificateProblem(e) ? "cert" : "handshake";
            return line(id, kind, "", "", e.toString(), "", "");
        } catch (SocketTimeoutException e) {
            return line(id, "timeout", "", "", e.toString(), "", "");
        } catch (ProxyRefused e) {
            return line(id, "proxy", "", "", e.getMessage(), "", "");
        } catch (Exception e) {
            return line(id, "connect", "", "", e.toString(), "", "");
        }
    }

    // One GET after the handshake: a server may refuse the certificate only in its answer (nginx's 400 page, IIS's
    // 403.7). Returns the status and the page (without the headers: they may carry cookies); what was read before a
    // time-out counts too.
    static String[] ask(SSLSocket s, String host, int port, String path) {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        String status = "";
        try {
            OutputStream out = s.getOutputStream();
            String authority = port == 443 ? host : host + ":" + port;
            out.write(("GET " + path + " HTTP/1.1\r\nHost: " + authority + "\r\nUser-Agent: TLS-Readiness-Checker Java probe"
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buffer = new byte[4096];
            int n;
            while (got.size() < 8192 && (n = in.read(buffer)) > 0) {
                got.write(buffer, 0, n);
                status = statusOf(got.toString("ISO-8859-1"));
                // Only refusals come with a page worth reading (its words say why); for others the head is enough.
                if (got.toString("ISO-8859-1").contains("\r\n\r\n") && !status.matches("400|401|403|421|495|496")) break;
            }
        } catch (IOException e) {
            if (got.size() == 0) return new String[] {"", "no answer: " + e};
        }
        String text = new String(got.toByteArray(), StandardCharsets.ISO_8859_1);
        int body = text.indexOf("\r\n\r\n");
        return new String[] {status, body >= 0 ? text.substring(body + 4) : ""};
    }

    static String statusOf(String text) {
        String[] first = text.split("\r\n", 2)[0].split(" ");
        return first.length > 1 && first[0].startsWith("HTTP/") ? first[1] : "";
    }

    // Java's host name check (sun.security.util.HostnameChecker) says "No name matching ... found" or "No subject
    // alternative names ...": the certificate is trusted but names another server.
    static boolean isNameProblem(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            String m = c.getMessage();
            if (c instanceof CertificateException && m != null
                && (m.startsWith("No name matching") || m.startsWith("No subject alternative"))) return true;
        }
        return false;
    }

    static KeyManager[] keyManagers() throws Exception {
        if (clientCert == null) return null;
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(clientCert)) {
            keys.load(in, clientPass);
        }
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(keys, clientPass);
        return factory.getKeyManagers();
    }

    // Loads and runs Java's TLS client code once (a ClientHello made in memory, sent nowhere), so that the first real
    // handshake does not pay for it.
    static void warmUp() {
        try {
            SSLEngine engine = SSLContext.getDefault().createSSLEngine("warm-up.invalid", 443);
            engine.setUseClientMode(true);
            engine.setEnabledProtocols(new String[] {"TLSv1.2"});
            java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
            engine.beginHandshake();
            engine.wrap(java.nio.ByteBuffer.allocate(0), out);
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init((KeyStore) null);
            CertificateFactory.getInstance("X.509");
            warmUpCrypto(trust);
        } catch (Exception e) {
            // only a warm-up
        }
    }

    // What every handshake computes, done once before the first address comes: the first handshakes of a new JVM
    // otherwise load and compile these at the same time, beside this program's own work.
    static void warmUpCrypto(TrustManagerFactory trust) throws Exception {
        byte[] data = new byte[256];
        java.security.KeyPairGenerator ec = java.security.KeyPairGenerator.getInstance("EC");
        ec.initialize(256);
        java.security.KeyPair a = ec.generateKeyPair(), b = ec.generateKeyPair();
        javax.crypto.KeyAgreement agree = javax.crypto.KeyAgreement.getInstance("ECDH");
        agree.init(a.getPrivate());
        agree.doPhase(b.getPublic(), true);
        agree.generateSecret();
        java.security.Signature sign = java.security.Signature.getInstance("SHA256withECDSA");
        sign.initSign(a.getPrivate());
        sign.update(data);
        byte[] signature = sign.sign();
        sign.initVerify(a.getPublic());
        sign.update(data);
        sign.verify(signature);
        javax.crypto.Cipher gcm = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
        gcm.init(javax.crypto.Cipher.ENCRYPT_MODE, new javax.crypto.spec.SecretKeySpec(new byte[32], "AES"),
            new javax.crypto.spec.GCMParameterSpec(128, new byte[12]));
        gcm.doFinal(data);
        for (String mac : new String[] {"HmacSHA256", "HmacSHA384"}) {
            javax.crypto.Mac m = javax.crypto.Mac.getInstance(mac);
            m.init(new javax.crypto.spec.SecretKeySpec(new byte[48], mac));
            m.doFinal(data);
        }
        for (TrustManager t : trust.getTrustManagers()) {  // an RSA root's own signature: RSA and certificate code
            if (!(t instanceof X509TrustManager)) continue;
            for (X509Certificate root : ((X509TrustManager) t).getAcceptedIssuers()) {
                if (root.getPublicKey().getAlgorithm().equals("RSA")) {
                    root.verify(root.getPublicKey());
                    return;
                }
            }
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

    static String line(String id, String kind, String protocol, String cipher, String message, String status,
                       String page) {
        return String.join("\t", "result", id, kind, protocol, cipher, message.replaceAll("[\\t\\r\\n]", " "),
            status, page.replaceAll("[\\t\\r\\n]", " "));
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
