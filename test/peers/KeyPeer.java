// Java peer of test/decode/key-serializer.peer.test.ts: serializes record keys with the real Kafka Connect
// JsonConverter (schemas enabled and disabled) and as Confluent's AvroConverter frames them (0x00 | schema id |
// Avro binary, written with Apache Avro as AvroData would shape it), and partitions each with kafka-clients'
// Utils.toPositive(Utils.murmur2(bytes)) % n.
//
// stdin, JSON lines: first {"schemas":[[{"name","type","optional","scale","precision"}...]...], "partitions":[n...]},
//   then {"s": schemaIndex, "v": [value...]} with int8..int64 and decimal unscaled values as decimal text,
//   bytes as hex, strings as JSON strings, booleans, null.
// stdout, JSON lines: first {"avroSchemas":[text...]}, then per key
//   {"js": hex, "jp": hex, "av": hex | null, "pjs": [..], "pjp": [..], "pav": [..]}.
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.shaded.org.apache.avro.generic.GenericData;
import org.apache.iceberg.shaded.org.apache.avro.generic.GenericDatumWriter;
import org.apache.iceberg.shaded.org.apache.avro.io.BinaryEncoder;
import org.apache.iceberg.shaded.org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.json.JsonConverter;

public class KeyPeer {
  static final String TOPIC = "peer.keys";
  static final int SCHEMA_ID = 42;

  public static void main(String[] args) throws Exception {
    ObjectMapper om = new ObjectMapper();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintStream out = new PrintStream(System.out, false, "UTF-8");
    JsonNode head = om.readTree(in.readLine());
    List<Schema> schemas = new ArrayList<>();
    List<org.apache.iceberg.shaded.org.apache.avro.Schema> avros = new ArrayList<>();
    ArrayNode avroTexts = om.createArrayNode();
    int index = 0;
    for (JsonNode spec : head.get("schemas")) {
      SchemaBuilder sb = SchemaBuilder.struct().name("floe.peer.s" + index + ".Key");
      StringBuilder avro = new StringBuilder("{\"type\":\"record\",\"name\":\"Key\",\"namespace\":\"floe.peer.s" + index + "\",\"fields\":[");
      boolean firstField = true;
      for (JsonNode f : spec) {
        String type = f.get("type").asText();
        boolean optional = f.path("optional").asBoolean(false);
        SchemaBuilder fb;
        String avroType;
        switch (type) {
          case "int8": fb = SchemaBuilder.int8(); avroType = "{\"type\":\"int\",\"connect.type\":\"int8\"}"; break;
          case "int16": fb = SchemaBuilder.int16(); avroType = "{\"type\":\"int\",\"connect.type\":\"int16\"}"; break;
          case "int32": fb = SchemaBuilder.int32(); avroType = "\"int\""; break;
          case "int64": fb = SchemaBuilder.int64(); avroType = "\"long\""; break;
          case "string": fb = SchemaBuilder.string(); avroType = "\"string\""; break;
          case "bytes": fb = SchemaBuilder.bytes(); avroType = "\"bytes\""; break;
          case "boolean": fb = SchemaBuilder.bool(); avroType = "\"boolean\""; break;
          case "decimal": {
            int scale = f.get("scale").asInt();
            String precision = f.get("precision").asText();
            fb = Decimal.builder(scale).parameter("connect.decimal.precision", precision);
            avroType = "{\"type\":\"bytes\",\"scale\":" + scale + ",\"precision\":" + precision
                + ",\"connect.version\":1,\"connect.parameters\":{\"scale\":\"" + scale + "\",\"connect.decimal.precision\":\"" + precision
                + "\"},\"connect.name\":\"org.apache.kafka.connect.data.Decimal\",\"logicalType\":\"decimal\"}";
            break;
          }
          default: throw new IllegalArgumentException(type);
        }
        if (optional) fb.optional();
        sb.field(f.get("name").asText(), fb.build());
        String t = optional ? "[\"null\"," + avroType + "]" : avroType;
        avro.append(firstField ? "" : ",").append("{\"name\":").append(om.writeValueAsString(f.get("avroName").asText()))
            .append(",\"type\":").append(t).append(optional ? ",\"default\":null}" : "}");
        firstField = false;
      }
      avro.append("],\"connect.name\":\"floe.peer.s").append(index).append(".Key\"}");
      schemas.add(sb.build());
      org.apache.iceberg.shaded.org.apache.avro.Schema a = new org.apache.iceberg.shaded.org.apache.avro.Schema.Parser().parse(avro.toString());
      avros.add(a);
      avroTexts.add(a.toString());
      index++;
    }
    List<Integer> partitions = new ArrayList<>();
    for (JsonNode n : head.get("partitions")) partitions.add(n.asInt());
    ObjectNode first = om.createObjectNode();
    first.set("avroSchemas", avroTexts);
    out.println(om.writeValueAsString(first));

    JsonConverter withSchema = new JsonConverter();
    Map<String, Object> cfg = new HashMap<>();
    cfg.put("schemas.enable", "true");
    withSchema.configure(cfg, true);
    JsonConverter plain = new JsonConverter();
    cfg.put("schemas.enable", "false");
    plain.configure(cfg, true);

    String line;
    while ((line = in.readLine()) != null) {
      if (line.isEmpty()) continue;
      JsonNode rec = om.readTree(line);
      int s = rec.get("s").asInt();
      Schema schema = schemas.get(s);
      org.apache.iceberg.shaded.org.apache.avro.Schema avro = avros.get(s);
      Struct struct = new Struct(schema);
      GenericData.Record record = new GenericData.Record(avro);
      JsonNode vs = rec.get("v");
      for (int i = 0; i < schema.fields().size(); i++) {
        org.apache.kafka.connect.data.Field f = schema.fields().get(i);
        JsonNode v = vs.get(i);
        Object cv = null;
        Object av = null;
        if (!v.isNull()) {
          Schema fs = f.schema();
          if (Decimal.LOGICAL_NAME.equals(fs.name())) {
            BigDecimal d = new BigDecimal(new BigInteger(v.asText()), Integer.parseInt(fs.parameters().get("scale")));
            cv = d;
            av = ByteBuffer.wrap(Decimal.fromLogical(fs, d));
          } else {
            switch (fs.type()) {
              case INT8: cv = Byte.parseByte(v.asText()); av = ((Byte) cv).intValue(); break;
              case INT16: cv = Short.parseShort(v.asText()); av = ((Short) cv).intValue(); break;
              case INT32: cv = Integer.parseInt(v.asText()); av = cv; break;
              case INT64: cv = Long.parseLong(v.asText()); av = cv; break;
              case STRING: cv = v.asText(); av = cv; break;
              case BOOLEAN: cv = v.asBoolean(); av = cv; break;
              case BYTES: {
                byte[] b = hexToBytes(v.asText());
                cv = b;
                av = ByteBuffer.wrap(b);
                break;
              }
              default: throw new IllegalArgumentException(fs.type().toString());
            }
          }
        }
        struct.put(f, cv);
        record.put(i, av);
      }
      byte[] js = withSchema.fromConnectData(TOPIC, schema, struct);
      byte[] jp = plain.fromConnectData(TOPIC, schema, struct);
      ByteArrayOutputStream bos = new ByteArrayOutputStream();
      bos.write(0);
      bos.write(ByteBuffer.allocate(4).putInt(SCHEMA_ID).array());
      BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(bos, null);
      new GenericDatumWriter<GenericData.Record>(avro).write(record, enc);
      enc.flush();
      byte[] av = bos.toByteArray();
      ObjectNode o = om.createObjectNode();
      o.put("js", toHex(js));
      o.put("jp", toHex(jp));
      o.put("av", toHex(av));
      o.set("pjs", parts(om, js, partitions));
      o.set("pjp", parts(om, jp, partitions));
      o.set("pav", parts(om, av, partitions));
      out.println(om.writeValueAsString(o));
    }
    out.flush();
  }

  static ArrayNode parts(ObjectMapper om, byte[] key, List<Integer> partitions) {
    ArrayNode a = om.createArrayNode();
    for (int n : partitions) a.add(Utils.toPositive(Utils.murmur2(key)) % n);
    return a;
  }

  static String toHex(byte[] b) {
    StringBuilder sb = new StringBuilder(b.length * 2);
    for (byte x : b) sb.append(String.format("%02x", x & 0xff));
    return sb.toString();
  }

  static byte[] hexToBytes(String s) {
    byte[] b = new byte[s.length() / 2];
    for (int i = 0; i < b.length; i++) b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
    return b;
  }
}
