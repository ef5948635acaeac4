#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.5.0' }
# The module side of the contract fixtures in contract/*.json (the Rust side is
# tests/powershell_contract.rs): each help example, run as written, must send exactly the
# fixture's request(s). The protocol client is mocked, so no binary is needed here; the canned
# answers only keep the cmdlets going until they have sent everything.

BeforeDiscovery {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'Common.ps1')
    $script:Cases = @(Get-ContractFixture)
    # Fixtures whose requests the example itself sends (a reader's request only when the example pipes into it).
    $script:SenderCases = @($script:Cases | Where-Object { $_.Fixture.cmdlet -ne '(session)' -and (-not $_.Fixture.reader -or $_.Fixture.example.Contains($_.Fixture.reader)) })
    $script:WriterCases = @($script:Cases | Where-Object { $_.Fixture.writes })
}

BeforeAll {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'Common.ps1')
    Import-Module -Name $script:ModuleManifest -Force

    # Commands the examples use that a test machine lacks: stand-ins with the same parameters.
    function Get-Secret {
        param([string] $Name)
        ConvertTo-SecretString -Text 'not-a-real-secret'
    }
    function Get-AzAccessToken {
        param([string] $ResourceUrl, [switch] $AsSecureString)
        [pscustomobject]@{ Token = (ConvertTo-SecretString -Text 'not-a-real-token') }
    }
    function Connect-IPPSSession {
        param([string] $UserPrincipalName)
        Write-Verbose "stand-in: connected as $UserPrincipalName"
    }

    # The Security & Compliance cmdlets, as Connect-IPPSSession would import them: global, so the
    # module sees them, returning the objects of the fixture bundle.
    $env:BMS2INTUNE_TEST_BUNDLE = Join-Path -Path $script:ContractDir -ChildPath 'data/policies.bundle.json'
    function global:Get-DeviceConditionalAccessPolicy { (Get-Content -LiteralPath $env:BMS2INTUNE_TEST_BUNDLE -Raw -Encoding UTF8 | ConvertFrom-Json).DeviceConditionalAccessPolicy }
    function global:Get-DeviceConditionalAccessRule { (Get-Content -LiteralPath $env:BMS2INTUNE_TEST_BUNDLE -Raw -Encoding UTF8 | ConvertFrom-Json).DeviceConditionalAccessRule }
    function global:Get-DeviceConfigurationPolicy { (Get-Content -LiteralPath $env:BMS2INTUNE_TEST_BUNDLE -Raw -Encoding UTF8 | ConvertFrom-Json).DeviceConfigurationPolicy }
    function global:Get-DeviceConfigurationRule { (Get-Content -LiteralPath $env:BMS2INTUNE_TEST_BUNDLE -Raw -Encoding UTF8 | ConvertFrom-Json).DeviceConfigurationRule }
    function global:Get-DeviceTenantRule { (Get-Content -LiteralPath $env:BMS2INTUNE_TEST_BUNDLE -Raw -Encoding UTF8 | ConvertFrom-Json).DeviceTenantRule }

    function Invoke-FixtureExample {
        <# Runs a fixture's example in a fresh folder with the protocol client mocked; returns the requests sent. #>
        param([Parameter(Mandatory)] $Fixture, [Parameter(Mandatory)] [string] $Dir)
        $null = New-Item -ItemType Directory -Path $Dir -Force
        $sample = Copy-SampleTenant -Destination $Dir
        if ($Fixture.files) {
            foreach ($p in $Fixture.files.PSObject.Properties) {
                Copy-Item -LiteralPath (Join-Path -Path $script:ContractDir -ChildPath $p.Value) -Destination (Join-Path -Path $Dir -ChildPath $p.Name)
            }
        }
        if ($Fixture.writes) {
            # The example writes these itself (Export-BmsDevicePolicy): start without them.
            foreach ($p in $Fixture.writes.PSObject.Properties) { Remove-Item -LiteralPath (Join-Path -Path $Dir -ChildPath $p.Name) -ErrorAction SilentlyContinue }
        }
        # Each example starts without the credentials an earlier Connect-BmsGraph example kept.
        InModuleScope Bms2Intune { $script:BmsGraphAuth = $null; $script:BmsGraphEndpoints = [ordered]@{} }
        $capture = Join-Path -Path $Dir -ChildPath 'requests.jsonl'
        $env:BMS2INTUNE_TEST_CAPTURE = $capture
        Mock -ModuleName Bms2Intune Invoke-BmsRpc {
            $line = ConvertTo-Json -InputObject ([ordered]@{ command = $Command; params = $Params }) -Depth 20 -Compress
            Add-Content -LiteralPath $env:BMS2INTUNE_TEST_CAPTURE -Value $line -Encoding UTF8
            switch ($Command) {
                'plan' { [pscustomobject]@{ waves = @([pscustomobject]@{ number = 0; pilot = $true; date = '2026-12-01'; group = 'BMS2Intune Wave 00'; users = @(); devices = [pscustomobject]@{ ios = 0; android = 0; windows = 0 } }); held_back = @() } }
                'status' { [pscustomobject]@{ workspace = $Params['workspace']; format_version = 1; artifacts = @([pscustomobject]@{ name = 'plan'; file = 'plan.json'; present = $false; summary = $null }) } }
                'report' { [pscustomobject]@{ html = (Join-Path -Path $Params['workspace'] -ChildPath 'report/index.html'); sections = @(); missing = @() } }
                default { [pscustomobject]@{} }
            }
        }
        Mock Invoke-Item { }
        Mock Get-Credential {
            New-Object System.Management.Automation.PSCredential -ArgumentList $UserName, (ConvertTo-SecretString -Text 'not-a-real-secret')
        }
        Push-Location -LiteralPath $Dir
        try {
            $example = [scriptblock]::Create($Fixture.example)
            # Errors after the request was sent (the canned answers are thin) do not matter here.
            $WarningPreference = 'SilentlyContinue'
            try { $null = & $example } catch { Write-Verbose "example ended with: $_" }
        } finally {
            Pop-Location
            Remove-Item Env:\BMS2INTUNE_TEST_CAPTURE
        }
        $sent = @()
        if (Test-Path -LiteralPath $capture) {
            $sent = @(Get-Content -LiteralPath $capture -Encoding UTF8 | ForEach-Object { $_ | ConvertFrom-Json })
        }
        return @{ Sent = $sent; Sample = $sample }
    }
}

AfterAll {
    Remove-Module -Name Bms2Intune -ErrorAction SilentlyContinue
    foreach ($kind in @('DeviceConditionalAccessPolicy', 'DeviceConditionalAccessRule', 'DeviceConfigurationPolicy', 'DeviceConfigurationRule', 'DeviceTenantRule')) {
        Remove-Item -LiteralPath "Function:\Get-$kind" -ErrorAction SilentlyContinue
    }
}

Describe 'Contract fixture <Name>' -ForEach $SenderCases {
    It 'the example sends exactly the fixture''s request(s)' {
        $dir = Join-Path -Path $TestDrive -ChildPath $Name
        $run = Invoke-FixtureExample -Fixture $Fixture -Dir $dir
        $expected = @($Fixture.requests)
        $run.Sent.Count | Should -Be $expected.Count -Because "example: $($Fixture.example)"
        for ($i = 0; $i -lt $expected.Count; $i++) {
            $want = Resolve-FixtureValue -Value $expected[$i] -Dir $dir -SampleFiles $run.Sample
            $got = $run.Sent[$i]
            $got.command | Should -Be $want['command']
            $gotParams = Resolve-FixtureValue -Value $got.params -Dir $dir -SampleFiles @()
            $wantParams = $want['params']
            if ($wantParams.Contains('files')) {
                if (@($wantParams['files']) -contains '${ANY}') { $gotParams['files'] = @('${ANY}') }
                # Directory listing order differs between file systems: compare files as a sorted list.
                $wantParams['files'] = @($wantParams['files'] | Sort-Object)
                $gotParams['files'] = @($gotParams['files'] | Sort-Object)
            }
            ConvertTo-SortedJson $gotParams | Should -Be (ConvertTo-SortedJson $wantParams)
        }
    }
}

Describe 'Policy bundle written by <Name>' -ForEach $WriterCases {
    It 'Export-BmsDevicePolicy writes the bundle of the fixture for the Get-Device* objects' {
        $dir = Join-Path -Path $TestDrive -ChildPath $Name
        $null = Invoke-FixtureExample -Fixture $Fixture -Dir $dir
        foreach ($p in $Fixture.writes.PSObject.Properties) {
            $written = Join-Path -Path $dir -ChildPath $p.Name
            $written | Should -Exist
            $bytes = [System.IO.File]::ReadAllBytes($written)
            ($bytes[0] -eq 0xEF -and $bytes[1] -eq 0xBB) | Should -BeFalse -Because 'the bundle is UTF-8 without BOM'
            $got = Get-Content -LiteralPath $written -Raw -Encoding UTF8 | ConvertFrom-Json
            $want = Get-Content -LiteralPath (Join-Path -Path $script:ContractDir -ChildPath $p.Value) -Raw -Encoding UTF8 | ConvertFrom-Json
            ConvertTo-SortedJson $got | Should -Be (ConvertTo-SortedJson $want)
        }
    }
}
