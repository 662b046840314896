"""The Zonos face (seed 004, PLATFORMS.md §5): GraphQL `orderItemUpdate` and friends at `/graphql`."""
