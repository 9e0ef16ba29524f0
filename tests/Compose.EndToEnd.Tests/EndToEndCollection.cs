namespace Compose.EndToEnd.Tests;

/// <summary>
/// Every end-to-end test runs in this one collection, one at a time: they build the same repository projects (Release)
/// with the dotnet CLI, and two builds of one project at once would collide in its obj and bin folders. The packed
/// feed is shared by every class that needs packages, so the repository is packed once per run, and so is the Native AOT
/// publish of the sample host (<see cref="AotPublishFixture"/>, published once for every AOT test class).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EndToEndCollection : ICollectionFixture<PackedFeedFixture>, ICollectionFixture<AotPublishFixture>
{
    public const string Name = "End-to-end (dotnet CLI)";
}
