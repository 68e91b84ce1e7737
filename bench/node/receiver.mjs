// A reference webhook receiver: verifies the signature with @octokit/webhooks and
// answers; with STORE=1 it first inserts the delivery into PostgreSQL with `pg`
// (durable: the server's fsync and synchronous_commit are left on).
import { createServer } from 'node:http';
import { Webhooks } from '@octokit/webhooks';
import pg from 'pg';

const port = Number(process.env.PORT);
const webhooks = new Webhooks({ secret: process.env.SECRET });
const store = process.env.STORE === '1';
const pool = store ? new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 }) : null;
if (pool) {
  await pool.query(`CREATE TABLE IF NOT EXISTS deliveries (
    id bigserial PRIMARY KEY, delivery_id text UNIQUE NOT NULL, event text NOT NULL, payload json NOT NULL)`);
}

createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      const body = Buffer.concat(chunks).toString('utf8');
      if (!(await webhooks.verify(body, req.headers['x-hub-signature-256']))) {
        res.writeHead(401).end();
        return;
      }
      if (pool) {
        await pool.query(
          'INSERT INTO deliveries (delivery_id, event, payload) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
          [req.headers['x-github-delivery'], req.headers['x-github-event'], body],
        );
      }
      res.writeHead(202).end();
    } catch (error) {
      res.writeHead(503).end(String(error));
    }
  });
}).listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
