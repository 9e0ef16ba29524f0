namespace Compose.EndToEnd.Tests;

/// <summary>
/// Every end-to-end test runs in this one collection, one at a time: they build the same repository projects (Release)
/// with the dotnet CLI, and two builds of one project at once would collide in its obj and bin folders. The packed
/// feed is shared by every class that needs packages, so the repository is packed once per run.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EndToEndCollection : ICollectionFixture<PackedFeedFixture>
{
    public const string Name = "End-to-end (dotnet CLI)";
}
