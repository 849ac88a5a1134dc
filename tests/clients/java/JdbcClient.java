// pgjdbc (Debian's libpostgresql-jdbc-java) against the server the runner
// started. Prints `ok <check>` or `FAIL <check>: <why>` per check.

import java.io.ByteArrayInputStream;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.*;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.*;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.copy.CopyManager;
import org.postgresql.util.PSQLException;

public class JdbcClient {
    static final String HOST = System.getenv("PGHOST");
    static final String PORT = System.getenv("PGPORT");
    static final String DB = System.getenv("PGDATABASE");
    static final String USER = System.getenv("PGUSER");
    static final String PASSWORD = System.getenv("PGPASSWORD");
    static final int STREAM_ROWS = 1_000_000;
    static int failures = 0;

    interface Check { void run() throws Exception; }

    static void check(String name, Check c) {
        try {
            c.run();
            System.out.println("ok " + name);
        } catch (Throwable t) {
            failures++;
            System.out.println("FAIL " + name + ": " + String.valueOf(t).replace('\n', ' '));
            t.printStackTrace();
        }
    }

    static void eq(Object got, Object want, String what) {
        if (!Objects.equals(got, want)) {
            throw new AssertionError(what + ": got " + got + ", want " + want);
        }
    }

    static Connection connect(Properties extra) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", USER);
        p.setProperty("password", PASSWORD);
        p.setProperty("sslmode", "disable");
        if (extra != null) p.putAll(extra);
        return DriverManager.getConnection("jdbc:postgresql://" + HOST + ":" + PORT + "/" + DB, p);
    }

    static Properties props(String... kv) {
        Properties p = new Properties();
        for (int i = 0; i < kv.length; i += 2) p.setProperty(kv[i], kv[i + 1]);
        return p;
    }

    static String sqlstate(Check c) throws Exception {
        try {
            c.run();
        } catch (SQLException e) {
            return e.getSQLState();
        }
        return null;
    }

    public static void main(String[] args) throws Exception {
        Connection db = connect(null);

        check("scram_login", () -> {
            try (Connection c = connect(null); Statement s = c.createStatement();
                 ResultSet r = s.executeQuery("SELECT current_user")) {
                r.next();
                eq(r.getString(1), USER, "user");
            }
        });

        check("md5_login", () -> {
            try (Connection c = connect(props("user", System.getenv("CLIENT_MD5_USER"),
                    "password", System.getenv("CLIENT_MD5_PASSWORD")));
                 ResultSet r = c.createStatement().executeQuery("SELECT current_user")) {
                r.next();
                eq(r.getString(1), System.getenv("CLIENT_MD5_USER"), "user");
            }
        });

        check("wrong_password_28P01", () -> {
            try {
                connect(props("password", "wrong")).close();
                throw new AssertionError("logged in");
            } catch (PSQLException e) {
                eq(e.getSQLState(), "28P01", "sqlstate");
            }
        });

        check("tls_verify_full", () -> {
            Properties p = props("sslmode", "verify-full", "sslrootcert", System.getenv("CLIENT_SSLROOTCERT"));
            try (Connection c = DriverManager.getConnection(
                    "jdbc:postgresql://localhost:" + PORT + "/" + DB,
                    merge(props("user", USER, "password", PASSWORD), p));
                 ResultSet r = c.createStatement().executeQuery("SELECT 1")) {
                r.next();
                eq(r.getInt(1), 1, "value");
            }
        });

        check("types_text_and_binary", () -> {
            for (String binary : new String[] {"false", "true"}) {
                // prepareThreshold=-1 makes pgjdbc prepare at once and ask for
                // binary results for the types it reads in binary.
                Properties p = props("prepareThreshold", binary.equals("true") ? "-1" : "5",
                        "binaryTransfer", binary);
                try (Connection c = connect(p)) {
                    PreparedStatement ps = c.prepareStatement(
                        "SELECT true, (-32768)::int2, 2147483647, (-9223372036854775808)::int8, 1.5::float4, " +
                        "-2.25e100::float8, 12345678901234567890.000123::numeric, 'héllo'::text, 'ab'::char(5), " +
                        "'\\x00ff10'::bytea, '2024-02-29'::date, '13:45:06.789'::time, " +
                        "'2001-02-03 04:05:06.123456'::timestamp, '2001-02-03 04:05:06+00'::timestamptz, " +
                        "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, '{\"a\": 1}'::jsonb, '{1,2,3}'::int[], " +
                        "'{a,\"b c\"}'::text[], '1 day 02:03:04'::interval, NULL::int");
                    for (int round = 0; round < 2; round++) {
                        try (ResultSet r = ps.executeQuery()) {
                            r.next();
                            eq(r.getBoolean(1), true, "bool");
                            eq(r.getShort(2), (short) -32768, "int2");
                            eq(r.getInt(3), 2147483647, "int4");
                            eq(r.getLong(4), Long.MIN_VALUE, "int8");
                            eq(r.getFloat(5), 1.5f, "float4");
                            eq(r.getDouble(6), -2.25e100, "float8");
                            eq(r.getBigDecimal(7), new BigDecimal("12345678901234567890.000123"), "numeric");
                            eq(r.getString(8), "héllo", "text");
                            eq(r.getString(9), "ab   ", "char");
                            eq(Arrays.toString(r.getBytes(10)), Arrays.toString(new byte[] {0, -1, 16}), "bytea");
                            eq(r.getObject(11, LocalDate.class), LocalDate.of(2024, 2, 29), "date");
                            eq(r.getTime(12).toString(), "13:45:06", "time");
                            eq(r.getObject(13, LocalDateTime.class), LocalDateTime.of(2001, 2, 3, 4, 5, 6, 123456000), "timestamp");
                            eq(r.getObject(14, OffsetDateTime.class).toInstant(),
                               OffsetDateTime.of(2001, 2, 3, 4, 5, 6, 0, ZoneOffset.UTC).toInstant(), "timestamptz");
                            eq(r.getObject(15), UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), "uuid");
                            eq(r.getString(16), "{\"a\": 1}", "jsonb");
                            eq(Arrays.toString((Integer[]) r.getArray(17).getArray()), "[1, 2, 3]", "int[]");
                            eq(Arrays.toString((String[]) r.getArray(18).getArray()), "[a, b c]", "text[]");
                            eq(r.getString(19), "1 day 02:03:04", "interval");
                            r.getInt(20);
                            eq(r.wasNull(), true, "null");
                        }
                    }
                }
            }
        });

        check("parameters_roundtrip", () -> {
            PreparedStatement ps = db.prepareStatement(
                "SELECT ?::int4, ?::int8, ?::numeric, ?::text, ?::bytea, ?::date, ?::timestamptz, ?::bool, ?::uuid, ?::float8");
            ps.setInt(1, 42);
            ps.setLong(2, 1L << 40);
            ps.setBigDecimal(3, new BigDecimal("-1.50"));
            ps.setString(4, "x ✓");
            ps.setBytes(5, new byte[] {1, 2});
            ps.setObject(6, LocalDate.of(1999, 12, 31));
            ps.setObject(7, OffsetDateTime.of(2020, 1, 2, 3, 4, 5, 0, ZoneOffset.UTC));
            ps.setBoolean(8, false);
            ps.setObject(9, UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
            ps.setDouble(10, 0.1);
            try (ResultSet r = ps.executeQuery()) {
                r.next();
                eq(r.getInt(1), 42, "int4");
                eq(r.getLong(2), 1L << 40, "int8");
                eq(r.getBigDecimal(3), new BigDecimal("-1.50"), "numeric");
                eq(r.getString(4), "x ✓", "text");
                eq(Arrays.toString(r.getBytes(5)), "[1, 2]", "bytea");
                eq(r.getObject(6, LocalDate.class), LocalDate.of(1999, 12, 31), "date");
                eq(r.getObject(7, OffsetDateTime.class).toInstant(),
                   OffsetDateTime.of(2020, 1, 2, 3, 4, 5, 0, ZoneOffset.UTC).toInstant(), "timestamptz");
                eq(r.getBoolean(8), false, "bool");
                eq(r.getObject(9), UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), "uuid");
                eq(r.getDouble(10), 0.1, "float8");
            }
        });

        check("batch_and_generated_keys", () -> {
            Statement s = db.createStatement();
            s.execute("DROP TABLE IF EXISTS jb");
            s.execute("CREATE TABLE jb (id serial PRIMARY KEY, name text NOT NULL)");
            PreparedStatement ps = db.prepareStatement("INSERT INTO jb (name) VALUES (?)");
            for (int i = 0; i < 100; i++) {
                ps.setString(1, "n" + i);
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            eq(counts.length, 100, "batch");
            PreparedStatement gk = db.prepareStatement("INSERT INTO jb (name) VALUES (?)", Statement.RETURN_GENERATED_KEYS);
            gk.setString(1, "last");
            gk.executeUpdate();
            try (ResultSet r = gk.getGeneratedKeys()) {
                r.next();
                eq(r.getInt("id"), 101, "generated key");
            }
        });

        check("transactions_and_savepoints", () -> {
            Statement s = db.createStatement();
            s.execute("DROP TABLE IF EXISTS tx");
            s.execute("CREATE TABLE tx (v int)");
            db.setAutoCommit(false);
            s.execute("INSERT INTO tx VALUES (1)");
            Savepoint sp = db.setSavepoint();
            s.execute("INSERT INTO tx VALUES (2)");
            db.rollback(sp);
            s.execute("INSERT INTO tx VALUES (3)");
            db.commit();
            s.execute("INSERT INTO tx VALUES (4)");
            db.rollback();
            db.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
            s.execute("INSERT INTO tx VALUES (5)");
            db.commit();
            db.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
            db.setAutoCommit(true);
            try (ResultSet r = s.executeQuery("SELECT string_agg(v::text, ',' ORDER BY v) FROM tx")) {
                r.next();
                eq(r.getString(1), "1,3,5", "rows");
            }
        });

        check("errors_carry_sqlstate", () -> {
            Statement s = db.createStatement();
            s.execute("DROP TABLE IF EXISTS uq");
            s.execute("CREATE TABLE uq (id int PRIMARY KEY)");
            s.execute("INSERT INTO uq VALUES (1)");
            eq(sqlstate(() -> s.execute("INSERT INTO uq VALUES (1)")), "23505", "unique");
            eq(sqlstate(() -> s.execute("SELEC 1")), "42601", "syntax");
            eq(sqlstate(() -> s.execute("SELECT 1/0")), "22012", "division");
            eq(sqlstate(() -> s.execute("SELECT * FROM nowhere")), "42P01", "table");
            try {
                s.execute("INSERT INTO uq VALUES (1)");
            } catch (PSQLException e) {
                eq(e.getServerErrorMessage().getConstraint(), "uq_pkey", "constraint");
                eq(e.getServerErrorMessage().getTable(), "uq", "table");
            }
            try (ResultSet r = s.executeQuery("SELECT 1")) {
                r.next();
                eq(r.getInt(1), 1, "still usable");
            }
        });

        check("copy_manager", () -> {
            Statement s = db.createStatement();
            s.execute("DROP TABLE IF EXISTS cp");
            s.execute("CREATE TABLE cp (id int, name text)");
            CopyManager cm = ((PGConnection) db).getCopyAPI();
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 1000; i++) sb.append(i).append("\tname ").append(i).append('\n');
            long n = cm.copyIn("COPY cp FROM STDIN", new ByteArrayInputStream(sb.toString().getBytes(StandardCharsets.UTF_8)));
            eq(n, 1000L, "rows in");
            n = cm.copyIn("COPY cp FROM STDIN WITH (FORMAT csv, HEADER true, NULL 'NA')",
                new ByteArrayInputStream("id,name\n1000,NA\n1001,\"a,b\"\n".getBytes(StandardCharsets.UTF_8)));
            eq(n, 2L, "csv rows in");
            StringWriter w = new StringWriter();
            n = cm.copyOut("COPY (SELECT * FROM cp WHERE id >= 999 ORDER BY id) TO STDOUT WITH (FORMAT csv)", w);
            eq(n, 3L, "rows out");
            eq(w.toString(), "999,name 999\n1000,\n1001,\"a,b\"\n", "csv out");
        });

        check("cancel_is_57014", () -> {
            try (Connection c = connect(null)) {
                Statement s = c.createStatement();
                Thread t = new Thread(() -> {
                    try {
                        Thread.sleep(500);
                        s.cancel();
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                t.start();
                eq(sqlstate(() -> s.execute("SELECT pg_sleep(20)")), "57014", "cancel");
                t.join();
                s.setQueryTimeout(1);
                eq(sqlstate(() -> s.execute("SELECT pg_sleep(20)")), "57014", "query timeout");
                s.setQueryTimeout(0);
                try (ResultSet r = s.executeQuery("SELECT 5")) {
                    r.next();
                    eq(r.getInt(1), 5, "usable");
                }
            }
        });

        check("stream_million_rows_fetch_size", () -> {
            Runtime rt = Runtime.getRuntime();
            try (Connection c = connect(null)) {
                c.setAutoCommit(false);
                Statement s = c.createStatement();
                s.setFetchSize(5000);
                long n = 0, sum = 0, peak = 0;
                try (ResultSet r = s.executeQuery("SELECT g, 'row ' || g FROM generate_series(1, " + STREAM_ROWS + ") g")) {
                    while (r.next()) {
                        n++;
                        sum += r.getLong(1);
                        if (n % 100000 == 0) peak = Math.max(peak, rt.totalMemory() - rt.freeMemory());
                    }
                }
                c.commit();
                eq(n, (long) STREAM_ROWS, "rows");
                eq(sum, (long) STREAM_ROWS * (STREAM_ROWS + 1) / 2, "sum");
                if (peak > 200L << 20) throw new AssertionError("heap reached " + (peak >> 20) + " MB");
            }
        });

        check("listen_notify", () -> {
            try (Connection l = connect(null)) {
                l.createStatement().execute("LISTEN jdbc_chan");
                db.createStatement().execute("NOTIFY jdbc_chan, 'hello'");
                PGNotification[] ns = ((PGConnection) l).getNotifications(10000);
                if (ns == null || ns.length == 0) throw new AssertionError("no notification");
                eq(ns[0].getName(), "jdbc_chan", "channel");
                eq(ns[0].getParameter(), "hello", "payload");
            }
        });

        check("metadata_tables_and_columns", () -> {
            Statement s = db.createStatement();
            s.execute("DROP TABLE IF EXISTS md_child");
            s.execute("DROP TABLE IF EXISTS md_parent");
            s.execute("CREATE TABLE md_parent (id int PRIMARY KEY, name varchar(40) NOT NULL DEFAULT 'x')");
            s.execute("CREATE TABLE md_child (id bigserial PRIMARY KEY, parent_id int REFERENCES md_parent(id), note text)");
            s.execute("CREATE INDEX md_child_note ON md_child (note)");
            DatabaseMetaData md = db.getMetaData();
            List<String> tables = new ArrayList<>();
            try (ResultSet r = md.getTables(null, "public", "md_%", new String[] {"TABLE"})) {
                while (r.next()) tables.add(r.getString("TABLE_NAME") + ":" + r.getString("TABLE_TYPE"));
            }
            eq(tables.toString(), "[md_child:TABLE, md_parent:TABLE]", "getTables");
            List<String> cols = new ArrayList<>();
            try (ResultSet r = md.getColumns(null, "public", "md_parent", "%")) {
                while (r.next()) {
                    cols.add(r.getString("COLUMN_NAME") + ":" + r.getString("TYPE_NAME") + ":" + r.getInt("DATA_TYPE")
                        + ":" + r.getInt("COLUMN_SIZE") + ":" + r.getString("IS_NULLABLE") + ":" + r.getString("COLUMN_DEF"));
                }
            }
            eq(cols.toString(), "[id:int4:4:10:NO:null, name:varchar:12:40:NO:'x'::character varying]", "getColumns");
            try (ResultSet r = md.getSchemas()) {
                boolean publicSeen = false;
                while (r.next()) publicSeen |= r.getString("TABLE_SCHEM").equals("public");
                if (!publicSeen) throw new AssertionError("no public schema");
            }
            if (!md.getDatabaseProductName().equals("PostgreSQL")) throw new AssertionError(md.getDatabaseProductName());
        });

        check("metadata_primary_keys", () -> {
            DatabaseMetaData md = db.getMetaData();
            List<String> pks = new ArrayList<>();
            try (ResultSet r = md.getPrimaryKeys(null, "public", "md_child")) {
                while (r.next()) pks.add(r.getString("COLUMN_NAME") + ":" + r.getString("PK_NAME"));
            }
            eq(pks.toString(), "[id:md_child_pkey]", "getPrimaryKeys");
        });

        check("metadata_imported_keys", () -> {
            DatabaseMetaData md = db.getMetaData();
            List<String> fks = new ArrayList<>();
            try (ResultSet r = md.getImportedKeys(null, "public", "md_child")) {
                while (r.next()) fks.add(r.getString("PKTABLE_NAME") + "." + r.getString("PKCOLUMN_NAME") + "<-" + r.getString("FKCOLUMN_NAME"));
            }
            eq(fks.toString(), "[md_parent.id<-parent_id]", "getImportedKeys");
        });

        check("metadata_index_info", () -> {
            DatabaseMetaData md = db.getMetaData();
            List<String> idx = new ArrayList<>();
            try (ResultSet r = md.getIndexInfo(null, "public", "md_child", false, false)) {
                while (r.next()) idx.add(r.getString("INDEX_NAME") + ":" + r.getString("COLUMN_NAME") + ":" + r.getBoolean("NON_UNIQUE"));
            }
            Collections.sort(idx);
            eq(idx.toString(), "[md_child_note:note:true, md_child_pkey:id:false]", "getIndexInfo");
        });

        db.close();
        System.exit(failures == 0 ? 0 : 1);
    }

    static Properties merge(Properties a, Properties b) {
        Properties p = new Properties();
        p.putAll(a);
        p.putAll(b);
        return p;
    }
}
