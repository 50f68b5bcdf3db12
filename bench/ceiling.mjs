// The ceiling of `npm run bench`: a bare node:http server answering one fixed environment JSON to every
// request. Nothing can answer faster over the same loopback, on the same core, with the same load
// generator, so each ioenv scenario is reported as a fraction of this one.
import http from 'node:http'

const body = Buffer.from(
  JSON.stringify({
    _id: '6650b3a0c2f1e4a7b8d9e0f1',
    name: 'Production',
    description: 'The benchmark ceiling answers this fixed environment.',
    _envUserId: '6650b3a0c2f1e4a7b8d9e0f2',
    enabled: true,
    createdAt: '2026-03-01T09:15:02.118Z',
    lastModified: '2026-03-01T09:15:02.118Z',
  }),
)
const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length }

const server = http.createServer((req, res) => {
  req.resume()
  res.writeHead(200, headers)
  res.end(body)
})
server.keepAliveTimeout = 5000
server.listen(0, '127.0.0.1', () => process.stdout.write(`ceiling listening on http://127.0.0.1:${server.address().port}\n`))
process.once('SIGTERM', () => server.close(() => process.exit(0)))
