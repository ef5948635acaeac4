# Shared setup of the Pester suites: finds the module, the binary and the fixtures.
# Dot-sourced from each *.Tests.ps1 in BeforeAll (and BeforeDiscovery where data drives tests).

$script:RepoRoot = (Resolve-Path -LiteralPath (Join-Path -Path $PSScriptRoot -ChildPath '../..')).ProviderPath
$script:ModuleManifest = Join-Path -Path $script:RepoRoot -ChildPath 'powershell/Bms2Intune/Bms2Intune.psd1'
$script:ContractDir = Join-Path -Path $script:RepoRoot -ChildPath 'powershell/tests/contract'
$script:SampleDir = Join-Path -Path $script:RepoRoot -ChildPath 'examples/sample-tenant'
$script:SampleExtensions = @('.csv', '.json', '.xlsx', '.xlsm', '.xls', '.ods')

if (-not $env:BMS2INTUNE_BIN) {
    $exe = 'bms2intune'
    if ($PSVersionTable.PSEdition -ne 'Core' -or $IsWindows) { $exe = 'bms2intune.exe' }
    foreach ($profileDir in @('debug', 'release')) {
        $candidate = Join-Path -Path $script:RepoRoot -ChildPath "target/$profileDir/$exe"
        if (Test-Path -LiteralPath $candidate) { $env:BMS2INTUNE_BIN = $candidate; break }
    }
}

function Copy-SampleTenant {
    <# Copies the sample tenant's data files to <Destination>\sample; returns their paths, sorted. #>
    param([Parameter(Mandatory)] [string] $Destination)
    $target = Join-Path -Path $Destination -ChildPath 'sample'
    $null = New-Item -ItemType Directory -Path $target -Force
    if (-not (Test-Path -LiteralPath $script:SampleDir)) { return @() }
    $files = Get-ChildItem -LiteralPath $script:SampleDir -File | Where-Object { $script:SampleExtensions -contains $_.Extension.ToLowerInvariant() }
    foreach ($f in $files) { Copy-Item -LiteralPath $f.FullName -Destination $target }
    return @(Get-ChildItem -LiteralPath $target -File | Sort-Object -Property Name | ForEach-Object { $_.FullName })
}

function ConvertTo-SortedJson {
    <# Canonical JSON (keys sorted) of a value, for comparing requests structurally. #>
    param([AllowNull()] [object] $Value)
    $sort = {
        param($v)
        if ($null -eq $v) { return $null }
        if ($v -is [System.Collections.IDictionary]) {
            $o = [ordered]@{}
            foreach ($k in ($v.Keys | Sort-Object)) { $o[$k] = & $sort $v[$k] }
            return $o
        }
        if ($v -is [System.Management.Automation.PSCustomObject]) {
            $o = [ordered]@{}
            foreach ($p in ($v.PSObject.Properties | Sort-Object -Property Name)) { $o[$p.Name] = & $sort $p.Value }
            return $o
        }
        if ($v -is [System.Collections.IEnumerable] -and $v -isnot [string]) {
            return , @($v | ForEach-Object { & $sort $_ })
        }
        return $v
    }
    return (ConvertTo-Json -InputObject (& $sort $Value) -Depth 30 -Compress)
}

function Resolve-FixtureValue {
    <# Replaces the fixture placeholders: ${DIR} (the test folder), ${SAMPLE_FILES} (the copied sample files). #>
    param([AllowNull()] [object] $Value, [string] $Dir, [string[]] $SampleFiles)
    $sep = [System.IO.Path]::DirectorySeparatorChar
    if ($null -eq $Value) { return $null }
    if ($Value -is [string]) {
        if ($Value.Contains('${DIR}')) { return ($Value.Replace('${DIR}', $Dir)).Replace('/', $sep) }
        return $Value
    }
    if ($Value -is [System.Management.Automation.PSCustomObject]) {
        $o = [ordered]@{}
        foreach ($p in $Value.PSObject.Properties) { $o[$p.Name] = Resolve-FixtureValue -Value $p.Value -Dir $Dir -SampleFiles $SampleFiles }
        return $o
    }
    if ($Value -is [System.Collections.IEnumerable]) {
        $items = New-Object System.Collections.Generic.List[object]
        foreach ($x in $Value) {
            if ($x -eq '${SAMPLE_FILES}') { foreach ($s in $SampleFiles) { $items.Add($s) } }
            else { $items.Add((Resolve-FixtureValue -Value $x -Dir $Dir -SampleFiles $SampleFiles)) }
        }
        return , $items.ToArray()
    }
    return $Value
}

function Get-ContractFixture {
    <# Every contract fixture as @{ Name; Fixture } for -ForEach. #>
    Get-ChildItem -LiteralPath $script:ContractDir -Filter '*.json' -File | Sort-Object -Property Name | ForEach-Object {
        @{ Name = $_.BaseName; Fixture = (Get-Content -LiteralPath $_.FullName -Raw -Encoding UTF8 | ConvertFrom-Json) }
    }
}

function ConvertTo-SecretString {
    <# A SecureString for test secrets (never a real secret). #>
    param([Parameter(Mandatory)] [string] $Text)
    $s = New-Object System.Security.SecureString
    foreach ($c in $Text.ToCharArray()) { $s.AppendChar($c) }
    return $s
}
