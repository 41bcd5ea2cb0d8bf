// Registers the snappy, lz4 and zstd codecs (see each module for its format and package) with the
// registry in ../compression.ts. Importing this module is what makes encodeBatch/decodeBatch
// handle Kafka's codecs 2-4. compression.ts does not import it: the record layer keeps gzip only
// and loads no native package until the engine (or a tool) imports this.
import { registerCodec } from '../compression.js';
import { lz4Codec } from './lz4.js';
import { snappyCodec } from './snappy.js';
import { zstdCodec } from './zstd.js';

registerCodec(snappyCodec);
registerCodec(lz4Codec);
registerCodec(zstdCodec);

export { lz4Codec, snappyCodec, zstdCodec };
