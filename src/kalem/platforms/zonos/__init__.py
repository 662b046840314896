"""The Zonos face, after the Zonos GraphQL API reference: GraphQL `orderItemUpdate` and friends at `/graphql`."""
