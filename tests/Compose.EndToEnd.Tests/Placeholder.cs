namespace Compose.EndToEnd.Tests;
