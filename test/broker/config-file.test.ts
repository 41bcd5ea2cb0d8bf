// server.properties read as Java's Properties.load reads it (Kafka reads it so): every separator,
// escapes, and values continued over several lines, as a sasl.jaas.config often is.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { readPropertiesFile, reportBrokerConfig, resolveBrokerSettings } from '../../src/broker/config.js';
import { tempDir } from '../helpers.js';

function propertiesFile(lines: string[]): string {
  const file = path.join(tempDir(), 'server.properties');
  fs.writeFileSync(file, lines.join('\n'));
  return file;
}

describe('readPropertiesFile', () => {
  it('takes =, : and whitespace as separators, # and ! comments, escapes and continued lines', () => {
    const file = propertiesFile([
      '# Kafka server.properties',
      '! another comment',
      'listeners PLAINTEXT://:9092',
      'num.partitions : 3',
      '  log.dirs=/var/lib/\\',
      '      kafka-logs',
      'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\',
      '    username="admin" \\',
      '    password="secret";',
      'weird\\=key=caf\\u00e9',
      'auto.create.topics.enable=false',
      'auto.create.topics.enable=true',
      '',
    ]);
    expect(readPropertiesFile(file)).toEqual({
      listeners: 'PLAINTEXT://:9092',
      'num.partitions': '3',
      'log.dirs': '/var/lib/kafka-logs',
      'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="secret";',
      'weird=key': 'café',
      'auto.create.topics.enable': 'true',
    });
  });

  it('gives the broker what the file says, and reports what it does not act on by its whole name', () => {
    const values = readPropertiesFile(propertiesFile(['listeners PLAINTEXT://:19092', 'log.dirs /tmp/d', 'sasl.jaas.config=a \\', '  b;']));
    expect(resolveBrokerSettings(values)).toMatchObject({ port: 19092, dataDir: '/tmp/d' });
    // Before, the continued line became a config named "b;" and "listeners PLAINTEXT" a name of its own.
    expect(reportBrokerConfig(values)).toMatchObject({ unsupported: [{ name: 'sasl.jaas.config' }], unknown: [] });
  });
});
