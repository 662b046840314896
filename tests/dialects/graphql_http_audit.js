// The GraphQL-over-HTTP audits of the graphql-http package (`serverAudits`) against one URL, one
// after another; prints [{id, name, status, reason}] as JSON. Usage: node graphql_http_audit.js URL
const { serverAudits } = require('graphql-http');

(async () => {
  const results = [];
  for (const audit of serverAudits({ url: process.argv[2] })) {
    const { id, name, status, reason } = await audit.fn();
    results.push({ id, name, status, reason });
  }
  process.stdout.write(JSON.stringify(results));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
