//! Test helper: a `GitHub` wrapper around the simulator (see [`TeamIds`]).

use std::sync::Arc;

use async_trait::async_trait;
use prow_github::{Forward, GitHub, Result};

/// Delegates everything to the simulator but answers the org-teams GraphQL query (team
/// `databaseId` → slug), which the simulator does not know, from a fixed two-page table.
pub struct TeamIds(pub Arc<dyn GitHub>);

#[async_trait]
impl Forward for TeamIds {
    fn target(&self) -> &dyn GitHub {
        self.0.as_ref()
    }
    async fn graphql(
        &self,
        org: &str,
        query: &str,
        variables: serde_json::Value,
    ) -> Result<serde_json::Value> {
        if !query.contains("organization(login: $org)") {
            return self.0.graphql(org, query, variables).await;
        }
        // Page 1 holds another team; page 2 holds ID 42 → `sig-leads`.
        Ok(match variables["cursor"].as_str() {
            None => serde_json::json!({"organization": {"teams": {
                "nodes": [{"databaseId": 7, "slug": "other"}],
                "pageInfo": {"hasNextPage": true, "endCursor": "p2"}}}}),
            Some(_) => serde_json::json!({"organization": {"teams": {
                "nodes": [{"databaseId": 42, "slug": "sig-leads"}],
                "pageInfo": {"hasNextPage": false, "endCursor": null}}}}),
        })
    }
}
